//! SCIM filter expressions (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsing and evaluation.
//!
//! Hand-written recursive-descent parser. The Rust SCIM filter crates we looked at either lack
//! the PATCH path grammar (`emails[type eq "work"].value`), are undocumented and unmaintained
//! since 2024, or are tied to another server; the grammar is small, and one parser serves
//! filters, `sortBy`, `attributes` and PATCH paths alike.
//!
//! Precedence: grouping, attribute operators, `not`, `and`, `or`. Keywords and attribute
//! names are case-insensitive. Evaluation works over the rendered JSON of a resource.

use std::cmp::Ordering;

use serde_json::Value;

use crate::error::{ScimError, ScimResult};
use crate::schema::{self, ResourceKind, ENTERPRISE_URN, GROUP_URN, USER_URN};

/// Maximum accepted filter length in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
const MAX_DEPTH: usize = 32;

/// An attribute path: `[URN ":"] name ["." sub]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// Extension schema URN (canonical spelling), `None` for core attributes.
    pub urn: Option<String>,
    /// Attribute name; empty when the path names a whole extension.
    pub name: String,
    /// Sub-attribute name.
    pub sub: Option<String>,
}

impl AttrPath {
    /// Parses an attribute path, stripping a known schema URN prefix.
    pub fn parse(raw: &str) -> ScimResult<Self> {
        let raw = raw.trim();
        let bad = || ScimError::invalid_path(format!("invalid attribute path \"{raw}\""));
        let (urn, rest) = split_known_urn(raw).ok_or_else(bad)?;
        if rest.is_empty() {
            return match urn {
                Some(u) => Ok(AttrPath {
                    urn: Some(u),
                    name: String::new(),
                    sub: None,
                }),
                None => Err(bad()),
            };
        }
        let mut parts = rest.splitn(2, '.');
        let name = parts.next().unwrap_or_default();
        let sub = parts.next();
        if !valid_name(name) || sub.is_some_and(|s| !valid_name(s)) {
            return Err(bad());
        }
        Ok(AttrPath {
            urn,
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }

    /// Looks up this path's schema definition for `kind`, relative to `parent` when inside a
    /// value filter.
    pub fn def(
        &self,
        kind: ResourceKind,
        parent: Option<&AttrPath>,
    ) -> Option<&'static schema::AttrDef> {
        match parent {
            Some(p) => schema::lookup(kind, p.urn.as_deref(), &p.name, Some(&self.name)),
            None => schema::lookup(kind, self.urn.as_deref(), &self.name, self.sub.as_deref()),
        }
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.urn {
            write!(f, "{u}")?;
            if !self.name.is_empty() {
                write!(f, ":")?;
            }
        }
        write!(f, "{}", self.name)?;
        if let Some(s) = &self.sub {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn split_known_urn(raw: &str) -> Option<(Option<String>, String)> {
    let lower = raw.to_ascii_lowercase();
    for urn in [ENTERPRISE_URN, USER_URN, GROUP_URN] {
        let u = urn.to_ascii_lowercase();
        let ext = (urn == ENTERPRISE_URN).then(|| urn.to_string());
        if lower == u {
            return Some((ext, String::new()));
        }
        if lower.starts_with(&u) && lower.as_bytes().get(u.len()) == Some(&b':') {
            return Some((ext, raw[u.len() + 1..].to_string()));
        }
    }
    if lower.starts_with("urn:") {
        return None;
    }
    Some((None, raw.to_string()))
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// equal
    Eq,
    /// not equal
    Ne,
    /// contains
    Co,
    /// starts with
    Sw,
    /// ends with
    Ew,
    /// greater than
    Gt,
    /// greater than or equal
    Ge,
    /// less than
    Lt,
    /// less than or equal
    Le,
}

impl CompareOp {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both sides match.
    And(Box<Filter>, Box<Filter>),
    /// Either side matches.
    Or(Box<Filter>, Box<Filter>),
    /// The inner filter does not match.
    Not(Box<Filter>),
    /// `attr pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `attr op value`.
    Compare(AttrPath, CompareOp, Value),
    /// `attr[filter]`: some value of the multi-valued attribute matches the inner filter.
    ValuePath(AttrPath, Box<Filter>),
}

/// A PATCH operation path: `attrPath` or `attr[valFilter][.sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute (with `sub` set only for plain `attr.sub` paths).
    pub attr: AttrPath,
    /// Value filter selecting elements of a multi-valued attribute.
    pub filter: Option<Filter>,
    /// Sub-attribute after a value filter (`emails[...].value`).
    pub sub_after_filter: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Word(String),
    Str(String),
    Lit(Value),
}

fn tokenize(input: &str) -> ScimResult<Vec<Tok>> {
    let mut toks = Vec::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                toks.push(Tok::LParen);
                i += 1
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1
            }
            '[' => {
                toks.push(Tok::LBracket);
                i += 1
            }
            ']' => {
                toks.push(Tok::RBracket);
                i += 1
            }
            '"' => {
                // A JSON string literal: find the closing quote, honouring escapes.
                let start = i;
                i += 1;
                let mut closed = false;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                if !closed || i > bytes.len() {
                    return Err(ScimError::invalid_filter("unterminated string literal"));
                }
                let s: String = serde_json::from_str(&input[start..i])
                    .map_err(|_| ScimError::invalid_filter("invalid string literal"))?;
                toks.push(Tok::Str(s));
            }
            _ => {
                let start = i;
                while i < bytes.len() && !b" \t\r\n()[]\"".contains(&bytes[i]) {
                    i += 1;
                }
                let w = &input[start..i];
                let lw = w.to_ascii_lowercase();
                if lw == "true" || lw == "false" || lw == "null" {
                    toks.push(Tok::Lit(serde_json::from_str(&lw).unwrap_or(Value::Null)));
                } else if w.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                    let n: serde_json::Number = w.parse().map_err(|_| {
                        ScimError::invalid_filter(format!("invalid number \"{w}\""))
                    })?;
                    toks.push(Tok::Lit(Value::Number(n)));
                } else {
                    toks.push(Tok::Word(w.to_string()));
                }
            }
        }
    }
    Ok(toks)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expect(&mut self, t: Tok, what: &str) -> ScimResult<()> {
        if self.next().as_ref() == Some(&t) {
            Ok(())
        } else {
            Err(ScimError::invalid_filter(format!("expected {what}")))
        }
    }

    fn or(&mut self) -> ScimResult<Filter> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ScimError::invalid_filter("filter nested too deeply"));
        }
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> ScimResult<Filter> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> ScimResult<Filter> {
        if self.peek_keyword("not") && self.toks.get(self.pos + 1) == Some(&Tok::LParen) {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        match self.next() {
            Some(Tok::LParen) => {
                let f = self.or()?;
                self.expect(Tok::RParen, "\")\"")?;
                Ok(f)
            }
            Some(Tok::Word(w)) => self.attr_expr(&w),
            Some(t) => Err(ScimError::invalid_filter(format!(
                "unexpected token {t:?}, expected an attribute path"
            ))),
            None => Err(ScimError::invalid_filter("unexpected end of filter")),
        }
    }

    fn attr_expr(&mut self, word: &str) -> ScimResult<Filter> {
        let path = AttrPath::parse(word).map_err(|e| ScimError::invalid_filter(e.detail))?;
        if self.peek() == Some(&Tok::LBracket) {
            self.pos += 1;
            if path.sub.is_some() {
                return Err(ScimError::invalid_filter(
                    "a value filter applies to an attribute, not a sub-attribute",
                ));
            }
            let inner = self.or()?;
            self.expect(Tok::RBracket, "\"]\"")?;
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let op = match self.next() {
            Some(Tok::Word(op)) => op,
            _ => {
                return Err(ScimError::invalid_filter(format!(
                    "expected an operator after \"{word}\""
                )))
            }
        };
        if op.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let cmp = CompareOp::parse(&op)
            .ok_or_else(|| ScimError::invalid_filter(format!("unknown operator \"{op}\"")))?;
        let value = match self.next() {
            Some(Tok::Str(s)) => Value::String(s),
            Some(Tok::Lit(v)) => v,
            _ => {
                return Err(ScimError::invalid_filter(format!(
                    "expected a comparison value after \"{op}\""
                )))
            }
        };
        Ok(Filter::Compare(path, cmp, value))
    }
}

/// Parses a filter expression (`400 invalidFilter` on any syntax error).
pub fn parse_filter(input: &str) -> ScimResult<Filter> {
    if input.len() > MAX_FILTER_LEN {
        return Err(ScimError::invalid_filter("filter too long"));
    }
    let mut p = Parser {
        toks: tokenize(input)?,
        pos: 0,
        depth: 0,
    };
    if p.toks.is_empty() {
        return Err(ScimError::invalid_filter("empty filter"));
    }
    let f = p.or()?;
    if p.pos != p.toks.len() {
        return Err(ScimError::invalid_filter(format!(
            "unexpected trailing input at token {}",
            p.pos + 1
        )));
    }
    Ok(f)
}

/// Parses a PATCH path (`400 invalidPath` on any syntax error).
pub fn parse_patch_path(input: &str) -> ScimResult<PatchPath> {
    let bad = |d: String| ScimError::invalid_path(format!("invalid PATCH path \"{input}\": {d}"));
    let Some(open) = input.find('[') else {
        return Ok(PatchPath {
            attr: AttrPath::parse(input)?,
            filter: None,
            sub_after_filter: None,
        });
    };
    let close = input
        .rfind(']')
        .ok_or_else(|| bad("missing \"]\"".into()))?;
    if close < open {
        return Err(bad("misplaced \"]\"".into()));
    }
    let attr = AttrPath::parse(&input[..open])?;
    if attr.sub.is_some() || attr.name.is_empty() {
        return Err(bad("a value filter applies to an attribute".into()));
    }
    let filter = parse_filter(&input[open + 1..close]).map_err(|e| bad(e.detail))?;
    let rest = &input[close + 1..];
    let sub_after_filter = if rest.is_empty() {
        None
    } else {
        let s = rest
            .strip_prefix('.')
            .ok_or_else(|| bad("expected \".sub\" after \"]\"".into()))?;
        if !valid_name(s) {
            return Err(bad("invalid sub-attribute".into()));
        }
        Some(s.to_string())
    };
    Ok(PatchPath {
        attr,
        filter: Some(filter),
        sub_after_filter,
    })
}

/// Finds a key case-insensitively in a JSON object.
pub fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The value at `path` within a resource (or a value-filter element when `relative`).
pub fn resolve<'a>(obj: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    let container = match &path.urn {
        Some(urn) => get_ci(obj, urn)?,
        None => obj,
    };
    if path.name.is_empty() {
        return Some(container);
    }
    let top = get_ci(container, &path.name)?;
    match &path.sub {
        None => Some(top),
        Some(sub) => match top {
            // Multi-valued: the caller handles arrays through `leaf_values`.
            Value::Array(_) => Some(top),
            _ => get_ci(top, sub),
        },
    }
}

/// All leaf values a comparison should consider for `path`: for multi-valued complex
/// attributes, each element's `sub` (or `value` when no sub-attribute is named).
fn leaf_values<'a>(obj: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(v) = resolve(obj, path) else {
        return Vec::new();
    };
    match v {
        Value::Array(items) => {
            let key = path.sub.as_deref().unwrap_or("value");
            items
                .iter()
                .filter_map(|item| match item {
                    Value::Object(_) => get_ci(item, key),
                    other => Some(other),
                })
                .collect()
        }
        other => vec![other],
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(o) => o.values().any(is_present),
        _ => true,
    }
}

/// Evaluation context: which resource type, and the enclosing attribute inside `attr[...]`.
#[derive(Clone, Copy)]
struct Scope<'a> {
    kind: ResourceKind,
    parent: Option<&'a AttrPath>,
}

/// Whether `resource` (rendered JSON of a `kind` resource) matches `filter`.
pub fn matches(filter: &Filter, kind: ResourceKind, resource: &Value) -> bool {
    eval(filter, Scope { kind, parent: None }, resource)
}

/// Whether one element of a multi-valued attribute `parent` matches the value filter `filter`.
pub fn element_matches(
    filter: &Filter,
    kind: ResourceKind,
    parent: &AttrPath,
    element: &Value,
) -> bool {
    eval(
        filter,
        Scope {
            kind,
            parent: Some(parent),
        },
        element,
    )
}

fn eval(f: &Filter, scope: Scope<'_>, obj: &Value) -> bool {
    match f {
        Filter::And(a, b) => eval(a, scope, obj) && eval(b, scope, obj),
        Filter::Or(a, b) => eval(a, scope, obj) || eval(b, scope, obj),
        Filter::Not(a) => !eval(a, scope, obj),
        Filter::Present(p) => resolve_scoped(obj, p, scope).is_some_and(|v| match v {
            Value::Array(items) if p.sub.is_some() => {
                leaf_values(obj, p).into_iter().any(is_present) && !items.is_empty()
            }
            other => is_present(other),
        }),
        Filter::Compare(p, op, want) => {
            let def = p.def(scope.kind, scope.parent);
            let case_exact = def.is_some_and(|d| d.case_exact);
            let leaves = leaf_values_scoped(obj, p, scope);
            if *op == CompareOp::Ne {
                return !leaves
                    .iter()
                    .any(|v| compare(v, CompareOp::Eq, want, case_exact));
            }
            leaves.iter().any(|v| compare(v, *op, want, case_exact))
        }
        Filter::ValuePath(p, inner) => {
            let Some(Value::Array(items)) = resolve_scoped(obj, p, scope) else {
                // A single-valued complex attribute can be filtered too.
                return resolve_scoped(obj, p, scope).is_some_and(|v| {
                    v.is_object()
                        && eval(
                            inner,
                            Scope {
                                kind: scope.kind,
                                parent: Some(p),
                            },
                            v,
                        )
                });
            };
            items.iter().any(|item| {
                eval(
                    inner,
                    Scope {
                        kind: scope.kind,
                        parent: Some(p),
                    },
                    item,
                )
            })
        }
    }
}

fn resolve_scoped<'a>(obj: &'a Value, p: &AttrPath, scope: Scope<'_>) -> Option<&'a Value> {
    if scope.parent.is_some() {
        // Inside a value filter paths are relative to the element.
        get_ci(obj, &p.name)
    } else {
        resolve(obj, p)
    }
}

fn leaf_values_scoped<'a>(obj: &'a Value, p: &AttrPath, scope: Scope<'_>) -> Vec<&'a Value> {
    if scope.parent.is_some() {
        get_ci(obj, &p.name).into_iter().collect()
    } else {
        leaf_values(obj, p)
    }
}

/// Compares one attribute value with a filter literal. Strings compare case-insensitively
/// unless the attribute is `caseExact`; RFC 3339 UTC timestamps order lexicographically.
fn compare(have: &Value, op: CompareOp, want: &Value, case_exact: bool) -> bool {
    match (have, want) {
        (Value::String(h), Value::String(w)) => {
            let (h, w) = if case_exact {
                (h.clone(), w.clone())
            } else {
                (h.to_lowercase(), w.to_lowercase())
            };
            match op {
                CompareOp::Eq => h == w,
                CompareOp::Ne => h != w,
                CompareOp::Co => h.contains(&w),
                CompareOp::Sw => h.starts_with(&w),
                CompareOp::Ew => h.ends_with(&w),
                CompareOp::Gt => h > w,
                CompareOp::Ge => h >= w,
                CompareOp::Lt => h < w,
                CompareOp::Le => h <= w,
            }
        }
        (Value::Bool(h), Value::Bool(w)) => match op {
            CompareOp::Eq => h == w,
            CompareOp::Ne => h != w,
            _ => false,
        },
        // Entra ID may store or send booleans as strings.
        (Value::Bool(h), Value::String(w)) | (Value::String(w), Value::Bool(h)) => {
            match schema::parse_bool(w) {
                Some(w) => match op {
                    CompareOp::Eq => *h == w,
                    CompareOp::Ne => *h != w,
                    _ => false,
                },
                None => false,
            }
        }
        (Value::Number(h), Value::Number(w)) => {
            let (Some(h), Some(w)) = (h.as_f64(), w.as_f64()) else {
                return false;
            };
            let ord = h.partial_cmp(&w);
            match op {
                CompareOp::Eq => ord == Some(Ordering::Equal),
                CompareOp::Ne => ord != Some(Ordering::Equal),
                CompareOp::Gt => ord == Some(Ordering::Greater),
                CompareOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                CompareOp::Lt => ord == Some(Ordering::Less),
                CompareOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                _ => false,
            }
        }
        (_, Value::Null) => match op {
            CompareOp::Eq => have.is_null(),
            CompareOp::Ne => !have.is_null(),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "id": "abc",
            "userName": "BJensen@example.com",
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "meta": {"lastModified": "2024-05-01T00:00:00Z", "resourceType": "User"},
            ENTERPRISE_URN: {"employeeNumber": "701984", "department": "Tour"}
        })
    }

    fn m(f: &str) -> bool {
        matches(&parse_filter(f).unwrap(), ResourceKind::User, &user())
    }

    #[test]
    fn operators() {
        assert!(m(r#"userName eq "bjensen@example.com""#));
        assert!(m(r#"USERNAME Eq "BJENSEN@EXAMPLE.COM""#));
        assert!(!m(r#"userName ne "bjensen@example.com""#));
        assert!(m(r#"name.familyName co "ens""#));
        assert!(m(r#"userName sw "bj""#));
        assert!(m(r#"userName ew ".com""#));
        assert!(!m("title pr") && m("name pr"));
        assert!(m(r#"meta.lastModified gt "2024-01-01T00:00:00Z""#));
        assert!(m(r#"meta.lastModified ge "2024-05-01T00:00:00Z""#));
        assert!(!m(r#"meta.lastModified lt "2024-01-01T00:00:00Z""#));
        assert!(m(r#"meta.lastModified le "2024-05-01T00:00:00Z""#));
        assert!(m("active eq true"));
        assert!(!m("active eq false"));
        assert!(m(r#"id eq "abc""#) && !m(r#"id eq "ABC""#));
    }

    #[test]
    fn logic_and_grouping() {
        assert!(m(
            r#"userName sw "bj" and (name.givenName eq "x" or active eq true)"#
        ));
        assert!(!m(r#"userName sw "bj" and not (active eq true)"#));
        assert!(m(
            r#"userName eq "x" or userName sw "bj" and active eq true"#
        ));
        assert!(!m(
            r#"(userName eq "x" or userName sw "bj") and active eq false"#
        ));
    }

    #[test]
    fn multi_valued_and_complex() {
        assert!(m(r#"emails co "jensen.org""#));
        assert!(m(r#"emails.type eq "home""#));
        assert!(m(r#"emails[type eq "work" and value co "@example.com"]"#));
        assert!(!m(r#"emails[type eq "home" and value co "@example.com"]"#));
        assert!(m(r#"emails[not (type eq "home")]"#));
        assert!(m(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#
        ));
        assert!(m(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b""#
        ));
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "",
            "userName",
            r#"userName xx "a""#,
            r#"userName eq"#,
            r#"(userName eq "a""#,
            r#"userName eq "a" and"#,
            r#"emails[type eq "work""#,
            r#"userName eq "unterminated"#,
            r#"urn:unknown:attr eq "a""#,
            r#"userName eq "a" extra"#,
        ] {
            let e = parse_filter(bad).unwrap_err();
            assert_eq!(
                e.scim_type,
                Some(crate::error::ScimType::InvalidFilter),
                "{bad}"
            );
        }
    }

    #[test]
    fn patch_paths() {
        let p = parse_patch_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr.name, "emails");
        assert_eq!(p.sub_after_filter.as_deref(), Some("value"));
        assert!(p.filter.is_some());
        let p = parse_patch_path("name.givenName").unwrap();
        assert_eq!(p.attr.sub.as_deref(), Some("givenName"));
        let p = parse_patch_path(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(p.attr.urn.as_deref(), Some(ENTERPRISE_URN));
        assert!(parse_patch_path("emails[type eq").is_err());
        assert!(parse_patch_path("bad path!").is_err());
    }
}
