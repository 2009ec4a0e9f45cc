//! A SOQL subset for User and Profile lookups: `SELECT f, … FROM User|Profile [WHERE c [AND|OR
//! c …]] [ORDER BY f [ASC|DESC]] [LIMIT n] [OFFSET n]`, with `=`, `!=`, `<>`, `LIKE`, `IN (…)`,
//! `NOT IN (…)`; User queries may also use the relationship field `Profile.Name`.

use serde_json::Value;

use crate::fields::{self, FieldDef, FieldType};
use crate::ids;
use crate::response::ApiError;
use crate::users::UserRecord;

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A quoted string (escapes resolved).
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A number, kept as written.
    Num(String),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`.
    Eq,
    /// `!=` or `<>`.
    Ne,
    /// `LIKE` with `%` and `_` wildcards (case-insensitive).
    Like,
    /// `IN (…)`.
    In,
    /// `NOT IN (…)`.
    NotIn,
}

/// One `field op literal` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The field compared.
    pub field: &'static FieldDef,
    /// The operator.
    pub op: Op,
    /// The literal(s) (several for `IN`).
    pub values: Vec<Literal>,
}

/// The objects queries can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SObject {
    /// `FROM User`.
    User,
    /// `FROM Profile`.
    Profile,
}

impl SObject {
    /// The API name.
    pub fn name(self) -> &'static str {
        match self {
            SObject::User => "User",
            SObject::Profile => "Profile",
        }
    }
}

/// Something a query reads fields of: a user, or a profile.
pub trait Row {
    /// The value of a field (canonical name); null when unset or unknown.
    fn value(&self, field: &str) -> Value;
}

impl Row for UserRecord {
    fn value(&self, field: &str) -> Value {
        self.get(field)
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The object queried.
    pub object: SObject,
    /// Selected fields, canonical names, in SELECT order.
    pub fields: Vec<&'static str>,
    /// `SELECT COUNT() …`.
    pub count_only: bool,
    /// The WHERE clause in disjunctive normal form: OR of ANDs (empty = no filter).
    pub filter: Vec<Vec<Condition>>,
    /// ORDER BY field and whether descending.
    pub order: Option<(&'static str, bool)>,
    /// LIMIT.
    pub limit: Option<usize>,
    /// OFFSET.
    pub offset: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Sym(&'static str),
    Eof,
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Num(s) => s.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Sym(s) => s.to_string(),
            Tok::Eof => "<EOF>".into(),
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
}

fn error(q: &str, col: usize, code: &str, msg: &str) -> ApiError {
    let caret = " ".repeat(col.saturating_sub(1));
    ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        code,
        format!("\n{q}\n{caret}^\nERROR at Row:1:Column:{col}\n{msg}"),
    )
}

fn lex(q: &str) -> Result<Vec<(Tok, usize)>, ApiError> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push((Tok::Ident(chars[start..i].iter().collect()), col));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push((Tok::Num(chars[start..i].iter().collect()), col));
        } else if c == '\'' {
            i += 1;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => {
                        return Err(error(
                            q,
                            col,
                            "MALFORMED_QUERY",
                            "line 1:0 mismatched character '<EOF>' expecting '''",
                        ))
                    }
                    Some('\\') => {
                        let e = chars.get(i + 1).copied().unwrap_or('\\');
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            'b' => '\u{8}',
                            'f' => '\u{c}',
                            other => other,
                        });
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push((Tok::Str(s), col));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = match two.as_str() {
                "!=" => Some("!="),
                "<>" => Some("<>"),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(s) = sym {
                out.push((Tok::Sym(s), col));
                i += 2;
                continue;
            }
            let one = match c {
                ',' => ",",
                '(' => "(",
                ')' => ")",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                _ => {
                    return Err(error(
                        q,
                        col,
                        "MALFORMED_QUERY",
                        &format!("unexpected token: {c}"),
                    ));
                }
            };
            out.push((Tok::Sym(one), col));
            i += 1;
        }
    }
    out.push((Tok::Eof, chars.len() + 1));
    Ok(out)
}

/// A condition before its field name is resolved: name, column, operator, literals.
type RawCondition = (String, usize, Op, Vec<Literal>);

struct Parser<'q> {
    q: &'q str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn col(&self) -> usize {
        self.toks[self.pos].1
    }

    fn next(&mut self) -> (Tok, usize) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn unexpected(&self) -> ApiError {
        error(
            self.q,
            self.col(),
            "MALFORMED_QUERY",
            &format!("unexpected token: {}", self.peek().text()),
        )
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), ApiError> {
        if self.peek().is_kw(kw) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn ident(&mut self) -> Result<(String, usize), ApiError> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                let col = self.col();
                self.next();
                Ok((s, col))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn usize_lit(&mut self) -> Result<usize, ApiError> {
        let parsed = match self.peek() {
            Tok::Num(n) => n.parse().ok(),
            _ => None,
        };
        let value = parsed.ok_or_else(|| self.unexpected())?;
        self.next();
        Ok(value)
    }

    fn literal(&mut self) -> Result<Literal, ApiError> {
        let lit = match self.peek().clone() {
            Tok::Str(s) => Literal::Str(s),
            Tok::Num(n) => Literal::Num(n),
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => Literal::Null,
            _ => return Err(self.unexpected()),
        };
        self.next();
        Ok(lit)
    }
}

const INVALID_FIELD_TAIL: &str = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";

fn resolve_field(
    q: &str,
    object: SObject,
    name: &str,
    col: usize,
) -> Result<&'static FieldDef, ApiError> {
    let found = match object {
        SObject::User if name.eq_ignore_ascii_case(fields::PROFILE_NAME.name) => {
            Some(&fields::PROFILE_NAME)
        }
        SObject::User => fields::find(name),
        SObject::Profile => fields::PROFILE_FIELDS
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name)),
    };
    found.ok_or_else(|| {
        error(
            q,
            col,
            "INVALID_FIELD",
            &format!(
                "No such column '{name}' on entity '{}'. {INVALID_FIELD_TAIL}",
                object.name()
            ),
        )
    })
}

/// Parses a query; errors are MALFORMED_QUERY, INVALID_TYPE or INVALID_FIELD (all 400).
pub fn parse(q: &str) -> Result<Query, ApiError> {
    let mut p = Parser {
        q,
        toks: lex(q)?,
        pos: 0,
    };
    p.expect_kw("SELECT")?;
    let mut raw_fields = Vec::new();
    let mut count_only = false;
    if p.peek().is_kw("COUNT") && p.toks.get(p.pos + 1).is_some_and(|t| t.0 == Tok::Sym("(")) {
        p.next();
        p.next();
        if p.peek() != &Tok::Sym(")") {
            return Err(p.unexpected());
        }
        p.next();
        count_only = true;
    } else {
        loop {
            let (name, col) = p.ident()?;
            if name.eq_ignore_ascii_case("FROM") {
                return Err(error(q, col, "MALFORMED_QUERY", "unexpected token: FROM"));
            }
            raw_fields.push((name, col));
            if p.peek() == &Tok::Sym(",") {
                p.next();
            } else {
                break;
            }
        }
    }
    p.expect_kw("FROM")?;
    let (object, object_col) = p.ident()?;
    let mut raw_filter: Vec<Vec<RawCondition>> = Vec::new();
    if p.peek().is_kw("WHERE") {
        p.next();
        let mut group = Vec::new();
        loop {
            let (name, col) = p.ident()?;
            let op = match p.peek().clone() {
                Tok::Sym("=") => Op::Eq,
                Tok::Sym("!=") | Tok::Sym("<>") => Op::Ne,
                t if t.is_kw("LIKE") => Op::Like,
                t if t.is_kw("IN") => Op::In,
                t if t.is_kw("NOT") => {
                    p.next();
                    if !p.peek().is_kw("IN") {
                        return Err(p.unexpected());
                    }
                    Op::NotIn
                }
                _ => return Err(p.unexpected()),
            };
            p.next();
            let values = if matches!(op, Op::In | Op::NotIn) {
                if p.peek() != &Tok::Sym("(") {
                    return Err(p.unexpected());
                }
                p.next();
                let mut vals = vec![p.literal()?];
                while p.peek() == &Tok::Sym(",") {
                    p.next();
                    vals.push(p.literal()?);
                }
                if p.peek() != &Tok::Sym(")") {
                    return Err(p.unexpected());
                }
                p.next();
                vals
            } else {
                vec![p.literal()?]
            };
            group.push((name, col, op, values));
            if p.peek().is_kw("AND") {
                p.next();
            } else if p.peek().is_kw("OR") {
                p.next();
                raw_filter.push(std::mem::take(&mut group));
            } else {
                break;
            }
        }
        raw_filter.push(group);
    }
    let mut order = None;
    if p.peek().is_kw("ORDER") {
        p.next();
        p.expect_kw("BY")?;
        let (name, col) = p.ident()?;
        let mut desc = false;
        if p.peek().is_kw("ASC") {
            p.next();
        } else if p.peek().is_kw("DESC") {
            p.next();
            desc = true;
        }
        if p.peek().is_kw("NULLS") {
            p.next();
            if p.peek().is_kw("FIRST") || p.peek().is_kw("LAST") {
                p.next();
            } else {
                return Err(p.unexpected());
            }
        }
        order = Some((name, col, desc));
    }
    let mut limit = None;
    if p.peek().is_kw("LIMIT") {
        p.next();
        limit = Some(p.usize_lit()?);
    }
    let mut offset = None;
    if p.peek().is_kw("OFFSET") {
        p.next();
        offset = Some(p.usize_lit()?);
    }
    if p.peek() != &Tok::Eof {
        return Err(p.unexpected());
    }
    let object = if object.eq_ignore_ascii_case("User") {
        SObject::User
    } else if object.eq_ignore_ascii_case("Profile") {
        SObject::Profile
    } else {
        return Err(error(
            q,
            object_col,
            "INVALID_TYPE",
            &format!("sObject type '{object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."),
        ));
    };
    let mut fields = Vec::new();
    for (name, col) in raw_fields {
        fields.push(resolve_field(q, object, &name, col)?.name);
    }
    let mut filter = Vec::new();
    for group in raw_filter {
        let mut conds = Vec::new();
        for (name, col, op, values) in group {
            conds.push(Condition {
                field: resolve_field(q, object, &name, col)?,
                op,
                values,
            });
        }
        filter.push(conds);
    }
    let order = match order {
        Some((name, col, desc)) => Some((resolve_field(q, object, &name, col)?.name, desc)),
        None => None,
    };
    Ok(Query {
        object,
        fields,
        count_only,
        filter,
        order,
        limit,
        offset,
    })
}

fn like(pattern: &str, value: &str) -> bool {
    fn go(p: &[char], v: &[char]) -> bool {
        match p.first() {
            None => v.is_empty(),
            Some('%') => (0..=v.len()).any(|i| go(&p[1..], &v[i..])),
            Some('_') => !v.is_empty() && go(&p[1..], &v[1..]),
            Some(c) => v.first() == Some(c) && go(&p[1..], &v[1..]),
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let v: Vec<char> = value.to_lowercase().chars().collect();
    go(&p, &v)
}

fn literal_matches(field: &FieldDef, value: &Value, lit: &Literal, case_insensitive: bool) -> bool {
    match (lit, value) {
        (Literal::Null, v) => v.is_null() || v.as_str() == Some(""),
        (Literal::Bool(b), Value::Bool(v)) => b == v,
        (Literal::Str(s), Value::String(v)) => match field.ty {
            FieldType::Id | FieldType::Reference(_) => {
                ids::to15(s).is_some() && ids::to15(s) == ids::to15(v)
            }
            _ if case_insensitive => s.to_lowercase() == v.to_lowercase(),
            _ => s == v,
        },
        (Literal::Num(n), Value::String(v)) => n == v,
        _ => false,
    }
}

impl Condition {
    fn matches(&self, row: &impl Row, case_insensitive: bool) -> bool {
        let value = row.value(self.field.name);
        let any = |vals: &[Literal]| {
            vals.iter()
                .any(|l| literal_matches(self.field, &value, l, case_insensitive))
        };
        match self.op {
            Op::Eq | Op::In => any(&self.values),
            Op::Ne | Op::NotIn => !any(&self.values),
            Op::Like => match (&self.values[0], value.as_str()) {
                (Literal::Str(p), Some(v)) => like(p, v),
                _ => false,
            },
        }
    }
}

impl Query {
    /// Whether a row satisfies the WHERE clause.
    pub fn matches(&self, row: &impl Row, case_insensitive: bool) -> bool {
        self.filter.is_empty()
            || self
                .filter
                .iter()
                .any(|group| group.iter().all(|c| c.matches(row, case_insensitive)))
    }

    /// Runs the query over rows (in creation order) and returns the matching ones, ordered,
    /// offset and limited.
    pub fn run<'r, R: Row>(&self, rows: &'r [R], case_insensitive: bool) -> Vec<&'r R> {
        let mut hits: Vec<&R> = rows
            .iter()
            .filter(|r| self.matches(*r, case_insensitive))
            .collect();
        if let Some((field, desc)) = self.order {
            hits.sort_by(|a, b| {
                let key = |r: &R| match r.value(field) {
                    Value::String(s) => Some(s.to_lowercase()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                };
                let ord = key(a).cmp(&key(b));
                if desc {
                    ord.reverse()
                } else {
                    ord
                }
            });
        }
        let offset = self.offset.unwrap_or(0);
        let limit = self.limit.unwrap_or(usize::MAX);
        hits.into_iter().skip(offset).take(limit).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_lookup_shape() {
        let q = parse("select Id, username FROM User where Username = 'o\\'brien@x.com' and IsActive = TRUE limit 5").unwrap();
        assert_eq!(q.fields, ["Id", "Username"]);
        assert_eq!(q.limit, Some(5));
        assert_eq!(q.filter.len(), 1);
        assert_eq!(
            q.filter[0][0].values,
            [Literal::Str("o'brien@x.com".into())]
        );
        assert_eq!(q.filter[0][1].values, [Literal::Bool(true)]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse("SELECT Id FORM User").unwrap_err().code,
            "MALFORMED_QUERY"
        );
        assert_eq!(
            parse("SELECT Id FROM Account").unwrap_err().code,
            "INVALID_TYPE"
        );
        let e = parse("SELECT Foo FROM User").unwrap_err();
        assert_eq!(e.code, "INVALID_FIELD");
        assert!(
            e.message.contains("No such column 'Foo' on entity 'User'"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("ERROR at Row:1:Column:8"),
            "{}",
            e.message
        );
        assert_eq!(
            parse("SELECT Id FROM User WHERE").unwrap_err().code,
            "MALFORMED_QUERY"
        );
        assert_eq!(
            parse("SELECT Id FROM User WHERE Username = 'x")
                .unwrap_err()
                .code,
            "MALFORMED_QUERY"
        );
    }

    #[test]
    fn like_wildcards() {
        assert!(like("jo%@x.com", "JOHN@x.com"));
        assert!(like("j_hn", "john"));
        assert!(!like("j_hn", "joohn"));
    }
}
