//! WSO2's provisioning pattern (`sf-prov-pattern`): which local values make up a Username.

/// One token of a provisioning pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// `UN`: the user name without its user-store domain.
    UserName,
    /// `UD`: the user-store domain, `PRIMARY` when the name has none.
    UserStoreDomain,
    /// `TD`: the tenant.
    Tenant,
    /// `IDP`: the target (WSO2's identity provider) name.
    Target,
}

/// A parsed provisioning pattern such as `{UD, UN, TD, IDP}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Parses `{A, B, ...}`; the braces are required, as in WSO2.
    pub fn parse(pattern: &str) -> Result<Pattern, String> {
        let inner = pattern
            .trim()
            .strip_prefix('{')
            .and_then(|p| p.strip_suffix('}'))
            .ok_or_else(|| {
                format!("`{pattern}` is not a pattern: wrap the tokens in braces, e.g. `{{UN}}` or `{{UD, UN, TD, IDP}}`")
            })?;
        let mut tokens = Vec::new();
        for raw in inner.split(',') {
            tokens.push(match raw.trim() {
                "UN" => Token::UserName,
                "UD" => Token::UserStoreDomain,
                "TD" => Token::Tenant,
                "IDP" => Token::Target,
                other => {
                    return Err(format!(
                        "unknown token `{other}` in `{pattern}`; use UN, UD, TD and IDP separated by commas"
                    ))
                }
            });
        }
        Ok(Pattern { tokens })
    }

    /// The tokens in order.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_needs_braces_and_known_tokens() {
        assert!(Pattern::parse("UN").is_err());
        assert!(Pattern::parse("{UN, XX}").is_err());
        assert_eq!(
            Pattern::parse(" {UD, UN,TD , IDP} ").unwrap().tokens(),
            &[
                Token::UserStoreDomain,
                Token::UserName,
                Token::Tenant,
                Token::Target
            ]
        );
    }
}
