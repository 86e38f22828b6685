//! The canonical customer fields of DESIGN.md §3, by name.

use std::fmt;
use std::str::FromStr;

/// One canonical customer field. Import maps source columns onto these;
/// anything else becomes a custom attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    ExtId,
    Name,
    GivenName,
    FamilyName,
    Email,
    Phone,
    Company,
    Title,
    Street,
    City,
    Region,
    Postcode,
    Country,
    BirthDate,
    Gender,
    Source,
    CreatedAt,
}

impl Field {
    /// Every canonical field in the order of DESIGN.md §3 (also the export order).
    pub const ALL: [Field; 17] = [
        Field::ExtId,
        Field::Name,
        Field::GivenName,
        Field::FamilyName,
        Field::Email,
        Field::Phone,
        Field::Company,
        Field::Title,
        Field::Street,
        Field::City,
        Field::Region,
        Field::Postcode,
        Field::Country,
        Field::BirthDate,
        Field::Gender,
        Field::Source,
        Field::CreatedAt,
    ];

    /// The canonical snake_case name used in the CLI, JSON and queries.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::ExtId => "ext_id",
            Field::Name => "name",
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Company => "company",
            Field::Title => "title",
            Field::Street => "street",
            Field::City => "city",
            Field::Region => "region",
            Field::Postcode => "postcode",
            Field::Country => "country",
            Field::BirthDate => "birth_date",
            Field::Gender => "gender",
            Field::Source => "source",
            Field::CreatedAt => "created_at",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Field {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Field::ALL.into_iter().find(|f| f.as_str() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Field::ALL {
            assert_eq!(f.as_str().parse::<Field>(), Ok(f));
        }
        assert!("nope".parse::<Field>().is_err());
    }
}
