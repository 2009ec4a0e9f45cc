//! The User object's field schema: names, labels, types, lengths and access.

use crate::ids;
use crate::picklists;

/// The data type of a User field, as far as validation needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// The record id.
    Id,
    /// Free text with a maximum length.
    Text,
    /// Text that must be an email address.
    Email,
    /// Text from a restricted picklist.
    Picklist(&'static [&'static str]),
    /// A boolean.
    Boolean,
    /// A reference to a record whose id has the given key prefix.
    Reference(&'static str),
    /// A date-time (read-only here).
    DateTime,
}

impl FieldType {
    /// The type name used in describe results and in JSON_PARSER_ERROR messages.
    pub fn soap_name(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Text => "string",
            FieldType::Email => "email",
            FieldType::Picklist(_) => "picklist",
            FieldType::Boolean => "boolean",
            FieldType::Reference(_) => "reference",
            FieldType::DateTime => "datetime",
        }
    }

    /// The XML schema type describe reports as `soapType`, e.g. `xsd:string` or `tns:ID`.
    pub fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference(_) => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::DateTime => "xsd:dateTime",
            FieldType::Text | FieldType::Email | FieldType::Picklist(_) => "xsd:string",
        }
    }

    /// True for types whose JSON representation is a string.
    pub fn is_textual(self) -> bool {
        !matches!(self, FieldType::Boolean)
    }
}

/// One field of the User object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// API name, e.g. `LastName`.
    pub name: &'static str,
    /// Label used in error messages, e.g. `Last Name`.
    pub label: &'static str,
    /// Data type.
    pub ty: FieldType,
    /// Maximum length in characters, for text.
    pub max_len: Option<usize>,
    /// Whether the caller may set it on create or update.
    pub writable: bool,
    /// Whether a create must supply it.
    pub required: bool,
}

const fn text(name: &'static str, label: &'static str, len: usize) -> FieldDef {
    FieldDef {
        name,
        label,
        ty: FieldType::Text,
        max_len: Some(len),
        writable: true,
        required: false,
    }
}

const fn required(mut f: FieldDef) -> FieldDef {
    f.required = true;
    f
}

const fn boolean(name: &'static str, label: &'static str) -> FieldDef {
    FieldDef {
        name,
        label,
        ty: FieldType::Boolean,
        max_len: None,
        writable: true,
        required: false,
    }
}

const fn picklist(
    name: &'static str,
    label: &'static str,
    values: &'static [&'static str],
) -> FieldDef {
    FieldDef {
        name,
        label,
        ty: FieldType::Picklist(values),
        max_len: Some(40),
        writable: true,
        required: true,
    }
}

const fn reference(name: &'static str, label: &'static str, prefix: &'static str) -> FieldDef {
    FieldDef {
        name,
        label,
        ty: FieldType::Reference(prefix),
        max_len: Some(18),
        writable: true,
        required: false,
    }
}

const fn read_only(name: &'static str, label: &'static str, ty: FieldType) -> FieldDef {
    FieldDef {
        name,
        label,
        ty,
        max_len: None,
        writable: false,
        required: false,
    }
}

/// Every User field the emulator knows, in describe order.
pub const USER_FIELDS: &[FieldDef] = &[
    read_only("Id", "User ID", FieldType::Id),
    required(text("Username", "Username", 80)),
    required(text("LastName", "Last Name", 80)),
    text("FirstName", "First Name", 40),
    read_only("Name", "Full Name", FieldType::Text),
    required(FieldDef {
        name: "Email",
        label: "Email",
        ty: FieldType::Email,
        max_len: Some(128),
        writable: true,
        required: true,
    }),
    required(text("Alias", "Alias", 8)),
    text("CommunityNickname", "Nickname", 40),
    picklist("TimeZoneSidKey", "Time Zone", picklists::TIME_ZONES),
    picklist("LocaleSidKey", "Locale", picklists::LOCALES),
    picklist(
        "EmailEncodingKey",
        "Email Encoding",
        picklists::EMAIL_ENCODINGS,
    ),
    required(reference("ProfileId", "Profile ID", ids::PROFILE_PREFIX)),
    picklist("LanguageLocaleKey", "Language", picklists::LANGUAGES),
    boolean("IsActive", "Active"),
    text("FederationIdentifier", "SAML Federation ID", 512),
    text("Title", "Title", 80),
    text("CompanyName", "Company Name", 80),
    text("Department", "Department", 80),
    text("Division", "Division", 80),
    text("EmployeeNumber", "Employee Number", 20),
    text("Street", "Street", 255),
    text("City", "City", 40),
    text("State", "State/Province", 80),
    text("PostalCode", "Zip/Postal Code", 20),
    text("Country", "Country", 80),
    text("Phone", "Phone", 40),
    text("MobilePhone", "Mobile", 40),
    text("Fax", "Fax", 40),
    text("Extension", "Extension", 40),
    reference("ManagerId", "Manager ID", ids::USER_PREFIX),
    reference("UserRoleId", "Role ID", ids::ROLE_PREFIX),
    boolean(
        "UserPermissionsCallCenterAutoLogin",
        "Auto-login To Call Center",
    ),
    boolean("UserPermissionsMarketingUser", "Marketing User"),
    boolean("UserPermissionsOfflineUser", "Offline User"),
    read_only("CreatedDate", "Created Date", FieldType::DateTime),
    read_only(
        "CreatedById",
        "Created By ID",
        FieldType::Reference(ids::USER_PREFIX),
    ),
    read_only(
        "LastModifiedDate",
        "Last Modified Date",
        FieldType::DateTime,
    ),
    read_only(
        "LastModifiedById",
        "Last Modified By ID",
        FieldType::Reference(ids::USER_PREFIX),
    ),
    read_only("SystemModstamp", "System Modstamp", FieldType::DateTime),
    read_only("LastLoginDate", "Last Login", FieldType::DateTime),
];

/// The User relationship field `Profile.Name`: selectable and filterable in queries only.
pub const PROFILE_NAME: FieldDef = read_only("Profile.Name", "Profile Name", FieldType::Text);

/// The Profile fields queries may use.
pub const PROFILE_FIELDS: &[FieldDef] = &[
    read_only("Id", "Profile ID", FieldType::Id),
    read_only("Name", "Name", FieldType::Text),
];

/// Looks a field up by API name, ignoring case (Salesforce field names are case-insensitive).
pub fn find(name: &str) -> Option<&'static FieldDef> {
    USER_FIELDS
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
}

/// The fields a create must supply, in the order REQUIRED_FIELD_MISSING lists them.
pub fn required_fields() -> impl Iterator<Item = &'static FieldDef> {
    USER_FIELDS.iter().filter(|f| f.required)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_required_fields() {
        let names: Vec<_> = required_fields().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "Username",
                "LastName",
                "Email",
                "Alias",
                "TimeZoneSidKey",
                "LocaleSidKey",
                "EmailEncodingKey",
                "ProfileId",
                "LanguageLocaleKey"
            ]
        );
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(find("username").unwrap().name, "Username");
        assert!(find("Nope").is_none());
    }
}
