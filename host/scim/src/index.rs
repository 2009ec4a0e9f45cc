//! What a storage backend indexes for SCIM, and which filters and sort orders it can therefore
//! answer by itself.
//!
//! A backend that keeps [`user_keys`]/[`group_keys`] of every live resource, group membership,
//! and creation/modification times can answer every [`IndexPlan`]: the filters identity
//! providers send (`userName eq`, `externalId eq`, `emails.value eq`, `displayName eq`,
//! `id eq`, `members[value eq]`, `meta.lastModified gt`, and `and`/`or` of these) cost what they
//! return, not the tenant's size. Anything else ([`plan`] answers `None`) is evaluated by the
//! protocol layer over a bounded scan.
//!
//! Keys of attributes that compare in any case (`caseExact: false`) are lower-cased here, the
//! way [`crate::filter`] compares them, so an index lookup and an in-memory evaluation of the
//! same filter agree.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::filter::{AttrPath, CompareOp, Filter};
use crate::resource::{GroupResource, UserResource};
use crate::schema::ResourceKind;

/// A value a resource can be found by: the indexed attribute and its normalised value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexKey {
    /// The attribute (`userName`, `externalId`, `emails`, `displayName`).
    pub attr: &'static str,
    /// The value, lower-cased unless the attribute is case-exact.
    pub value: String,
}

/// The indexed attributes: (kind, attribute, case-exact).
const INDEXED: &[(ResourceKind, &str, bool)] = &[
    (ResourceKind::User, "userName", false),
    (ResourceKind::User, "externalId", true),
    (ResourceKind::User, "emails", false),
    (ResourceKind::User, "displayName", false),
    (ResourceKind::Group, "displayName", false),
    (ResourceKind::Group, "externalId", true),
];

fn normalise(case_exact: bool, value: &str) -> String {
    if case_exact {
        value.to_owned()
    } else {
        value.to_lowercase()
    }
}

fn key(kind: ResourceKind, attr: &'static str, value: &str) -> IndexKey {
    let case_exact = INDEXED
        .iter()
        .any(|(k, a, exact)| *k == kind && *a == attr && *exact);
    IndexKey {
        attr,
        value: normalise(case_exact, value),
    }
}

/// The keys a user is found by.
pub fn user_keys(u: &UserResource) -> Vec<IndexKey> {
    let kind = ResourceKind::User;
    let mut keys = vec![key(kind, "userName", &u.user_name)];
    keys.extend(u.external_id.iter().map(|v| key(kind, "externalId", v)));
    keys.extend(u.display_name.iter().map(|v| key(kind, "displayName", v)));
    keys.extend(
        u.emails
            .iter()
            .filter_map(|e| e.value.as_deref())
            .map(|v| key(kind, "emails", v)),
    );
    keys.sort();
    keys.dedup();
    keys
}

/// The keys a group is found by.
pub fn group_keys(g: &GroupResource) -> Vec<IndexKey> {
    let kind = ResourceKind::Group;
    let mut keys = vec![key(kind, "displayName", &g.display_name)];
    keys.extend(g.external_id.iter().map(|v| key(kind, "externalId", v)));
    keys
}

/// How an indexed key is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMatch {
    /// Equal to the (normalised) value.
    Equals(String),
    /// Starts with the (normalised) value.
    StartsWith(String),
    /// The resource has a value of the attribute.
    Present,
}

/// `meta.created` or `meta.lastModified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeAttr {
    /// `meta.created`.
    Created,
    /// `meta.lastModified`.
    Modified,
}

/// A time comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOp {
    /// `gt`.
    After,
    /// `ge`.
    AtOrAfter,
    /// `lt`.
    Before,
    /// `le`.
    AtOrBefore,
}

/// A filter in terms of what a backend indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexPlan {
    /// Every resource.
    All,
    /// The resource with this id.
    Id(String),
    /// Resources with a key of `attr` matching.
    Key {
        /// An attribute of [`user_keys`]/[`group_keys`].
        attr: &'static str,
        /// How its normalised value is matched.
        matching: KeyMatch,
    },
    /// Groups with this member id.
    HasMember(String),
    /// Resources whose time compares so with `epoch_ms`.
    Time {
        /// Which time.
        attr: TimeAttr,
        /// The comparison.
        op: TimeOp,
        /// The instant in epoch milliseconds.
        epoch_ms: i64,
    },
    /// Both hold.
    And(Vec<IndexPlan>),
    /// Either holds.
    Or(Vec<IndexPlan>),
}

/// The order a backend can return resources in from its indexes (ties broken by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortPlan {
    /// By id (the order when no `sortBy` is given).
    Id,
    /// By `userName` (users) or `displayName` (groups), in any case.
    Name,
    /// By `meta.created` or `meta.lastModified`.
    Time(TimeAttr),
}

/// A list request a backend answers from its indexes: which resources, in which order, which
/// page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedQuery {
    /// Which resources.
    pub plan: IndexPlan,
    /// Their order.
    pub order: SortPlan,
    /// Whether the order is reversed.
    pub descending: bool,
    /// Matches skipped (`startIndex - 1`).
    pub offset: u64,
    /// Page size.
    pub limit: u64,
}

/// `filter` (none: every resource) as an index plan for `kind`, or `None` when some part of
/// it needs the resources themselves (e.g. `co`, `ne`, `not`, unindexed attributes).
pub fn plan(kind: ResourceKind, filter: Option<&Filter>) -> Option<IndexPlan> {
    match filter {
        None => Some(IndexPlan::All),
        Some(f) => plan_filter(kind, f),
    }
}

fn plan_filter(kind: ResourceKind, f: &Filter) -> Option<IndexPlan> {
    match f {
        Filter::And(a, b) => Some(IndexPlan::And(vec![
            plan_filter(kind, a)?,
            plan_filter(kind, b)?,
        ])),
        Filter::Or(a, b) => Some(IndexPlan::Or(vec![
            plan_filter(kind, a)?,
            plan_filter(kind, b)?,
        ])),
        Filter::Not(_) => None,
        Filter::Present(p) => {
            let attr = indexed_attr(kind, p)?;
            Some(IndexPlan::Key {
                attr,
                matching: KeyMatch::Present,
            })
        }
        Filter::Compare(p, op, Value::String(v)) => plan_compare(kind, p, *op, v),
        Filter::Compare(..) => None,
        // `emails[value eq "x"]`, `members[value eq "id"]`: only a lone test of `value`.
        Filter::ValuePath(p, inner) if p.urn.is_none() && p.sub.is_none() => match &**inner {
            Filter::Compare(sub, op, Value::String(v))
                if sub.urn.is_none()
                    && sub.sub.is_none()
                    && sub.name.eq_ignore_ascii_case("value") =>
            {
                let path = AttrPath {
                    urn: None,
                    name: p.name.clone(),
                    sub: Some("value".into()),
                };
                plan_compare(kind, &path, *op, v)
            }
            _ => None,
        },
        Filter::ValuePath(..) => None,
    }
}

fn plan_compare(kind: ResourceKind, p: &AttrPath, op: CompareOp, v: &str) -> Option<IndexPlan> {
    if p.urn.is_none() && p.name.eq_ignore_ascii_case("meta") {
        let attr = match p.sub.as_deref()?.to_ascii_lowercase().as_str() {
            "created" => TimeAttr::Created,
            "lastmodified" => TimeAttr::Modified,
            _ => return None,
        };
        let epoch_ms = epoch_ms(v)?;
        let op = match op {
            CompareOp::Gt => TimeOp::After,
            CompareOp::Ge => TimeOp::AtOrAfter,
            CompareOp::Lt => TimeOp::Before,
            CompareOp::Le => TimeOp::AtOrBefore,
            // Equality on a millisecond instant is a range of one millisecond.
            CompareOp::Eq => {
                return Some(IndexPlan::And(vec![
                    IndexPlan::Time {
                        attr,
                        op: TimeOp::AtOrAfter,
                        epoch_ms,
                    },
                    IndexPlan::Time {
                        attr,
                        op: TimeOp::AtOrBefore,
                        epoch_ms,
                    },
                ]))
            }
            _ => return None,
        };
        return Some(IndexPlan::Time { attr, op, epoch_ms });
    }
    if p.urn.is_none() && p.sub.is_none() && p.name.eq_ignore_ascii_case("id") {
        return (op == CompareOp::Eq).then(|| IndexPlan::Id(v.to_owned()));
    }
    if kind == ResourceKind::Group
        && p.urn.is_none()
        && p.name.eq_ignore_ascii_case("members")
        && p.sub
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("value"))
    {
        return (op == CompareOp::Eq).then(|| IndexPlan::HasMember(v.to_owned()));
    }
    let attr = indexed_attr(kind, p)?;
    let (_, _, case_exact) = INDEXED.iter().find(|(k, a, _)| *k == kind && *a == attr)?;
    let value = normalise(*case_exact, v);
    let matching = match op {
        CompareOp::Eq => KeyMatch::Equals(value),
        CompareOp::Sw if value.is_empty() => KeyMatch::Present,
        CompareOp::Sw => KeyMatch::StartsWith(value),
        _ => return None,
    };
    Some(IndexPlan::Key { attr, matching })
}

/// The indexed attribute a path names (`emails` and `emails.value` are the same key).
fn indexed_attr(kind: ResourceKind, p: &AttrPath) -> Option<&'static str> {
    if p.urn.is_some() {
        return None;
    }
    let (_, attr, _) = INDEXED
        .iter()
        .find(|(k, a, _)| *k == kind && a.eq_ignore_ascii_case(&p.name))?;
    match p.sub.as_deref() {
        None => Some(attr),
        Some(sub) if *attr == "emails" && sub.eq_ignore_ascii_case("value") => Some(attr),
        Some(_) => None,
    }
}

fn epoch_ms(v: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(v, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// `sortBy` (none: by id) as an index order for `kind`, or `None` when sorting needs the
/// resources themselves.
pub fn sort_plan(kind: ResourceKind, sort_by: Option<&AttrPath>) -> Option<SortPlan> {
    let Some(p) = sort_by else {
        return Some(SortPlan::Id);
    };
    if p.urn.is_some() {
        return None;
    }
    let name = p.name.to_ascii_lowercase();
    let sub = p.sub.as_deref().map(str::to_ascii_lowercase);
    match (name.as_str(), sub.as_deref()) {
        ("id", None) => Some(SortPlan::Id),
        ("username", None) if kind == ResourceKind::User => Some(SortPlan::Name),
        ("displayname", None) if kind == ResourceKind::Group => Some(SortPlan::Name),
        ("meta", Some("created")) => Some(SortPlan::Time(TimeAttr::Created)),
        ("meta", Some("lastmodified")) => Some(SortPlan::Time(TimeAttr::Modified)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    fn users(f: &str) -> Option<IndexPlan> {
        plan(ResourceKind::User, Some(&parse_filter(f).unwrap()))
    }

    #[test]
    fn what_identity_providers_send_is_indexed() {
        assert_eq!(
            users(r#"userName eq "BJensen@Example.com""#),
            Some(IndexPlan::Key {
                attr: "userName",
                matching: KeyMatch::Equals("bjensen@example.com".into())
            })
        );
        assert_eq!(
            users(r#"externalId eq "AbC""#),
            Some(IndexPlan::Key {
                attr: "externalId",
                matching: KeyMatch::Equals("AbC".into())
            })
        );
        for f in [
            r#"emails.value eq "A@x.org""#,
            r#"emails eq "a@x.org""#,
            r#"emails[value eq "A@X.org"]"#,
        ] {
            assert_eq!(
                users(f),
                Some(IndexPlan::Key {
                    attr: "emails",
                    matching: KeyMatch::Equals("a@x.org".into())
                }),
                "{f}"
            );
        }
        let groups = plan(
            ResourceKind::Group,
            Some(&parse_filter(r#"id eq "g1" and members[value eq "u1"]"#).unwrap()),
        );
        assert_eq!(
            groups,
            Some(IndexPlan::And(vec![
                IndexPlan::Id("g1".into()),
                IndexPlan::HasMember("u1".into())
            ]))
        );
        assert_eq!(
            users(r#"meta.lastModified gt "2024-05-01T00:00:00Z""#),
            Some(IndexPlan::Time {
                attr: TimeAttr::Modified,
                op: TimeOp::After,
                epoch_ms: 1_714_521_600_000
            })
        );
    }

    #[test]
    fn what_needs_the_resources_is_not() {
        for f in [
            r#"userName co "jen""#,
            r#"userName ne "x""#,
            r#"not (userName eq "x")"#,
            r#"title eq "Tour Guide""#,
            r#"emails[type eq "work" and value eq "x"]"#,
            r#"userName eq "x" or title eq "y""#,
            "active eq true",
        ] {
            assert_eq!(users(f), None, "{f}");
        }
        assert_eq!(
            sort_plan(
                ResourceKind::User,
                Some(&AttrPath::parse("name.familyName").unwrap())
            ),
            None
        );
    }

    #[test]
    fn keys_are_normalised_as_the_filter_compares() {
        let u: UserResource = serde_json::from_value(serde_json::json!({
            "userName": "Ärne@Example.com", "externalId": "Ext-1",
            "emails": [{"value": "A@x.org"}, {"value": "a@X.org"}]
        }))
        .unwrap();
        let keys = user_keys(&u);
        assert!(keys.contains(&IndexKey {
            attr: "userName",
            value: "ärne@example.com".into()
        }));
        assert!(keys.contains(&IndexKey {
            attr: "externalId",
            value: "Ext-1".into()
        }));
        assert_eq!(keys.iter().filter(|k| k.attr == "emails").count(), 1);
    }
}
