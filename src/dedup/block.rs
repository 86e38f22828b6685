//! Blocking: which pairs are compared at all. A million customers make
//! 5·10^11 pairs; only records that share a blocking key meet.
//!
//! Every record gives a few keys (see [`KeyKind`]), each a primary value and
//! a secondary one. Records with the same primary value form a block. A
//! block larger than the cap is split by the secondary value (name blocks
//! by city, for instance); a sub-block still larger than the cap, or one
//! without a secondary value, is skipped, and both are reported. Each
//! surviving block has an id (a hash that includes its kind); a pair is
//! compared once, in the block with the smallest id the two share, and
//! carries every kind of block they share (the "keys" the review pane
//! shows).

use serde::Serialize;

use super::compare::CompareField;
use super::prepare::{Record, hash};

/// The kinds of blocking key, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// A canonical email (Gmail without dots and +tags); split by the
    /// phonetic name.
    Email,
    /// The last 8 digits of an E.164 phone; split by the phonetic name.
    Phone,
    /// A custom attribute picked as an identifier (see
    /// `prepare::Identifiers`), exactly; split by the phonetic name.
    Identifier,
    /// The folded name (pinyin for Han, sorted tokens); split by city.
    Name,
    /// Folded name and postcode.
    NamePostcode,
    /// The phonetic name (Soundex, fuzzy pinyin); split by city.
    Phonetic,
    /// An email's local part at any provider; split by the phonetic name.
    EmailLocal,
    /// Birth date and the first letter of the folded name; split by city.
    BirthInitial,
    /// Company without its legal form, and city; split by phonetic name.
    CompanyCity,
    /// The first two words of the street (number and name, or road and
    /// number) with the postcode, else the city; split by phonetic name.
    Address,
    /// One part of the name (a word; for Han names the family or the given
    /// name) and the postcode: people who changed or mistyped the rest of
    /// their name still meet their neighbours of that name. Not split.
    NamePartPostcode,
    /// Birth date and postcode, and birth date and city: someone whose
    /// name was mistyped beyond recognition but who still lives there.
    /// Split by the phonetic name.
    BirthPlace,
    /// Loose: the postcode alone.
    Postcode,
    /// Loose: the birth date alone.
    BirthDate,
    /// Loose: one word of the name and the city.
    NamePartCity,
}

impl KeyKind {
    /// Every kind.
    pub const ALL: [KeyKind; 15] = [
        KeyKind::Email,
        KeyKind::Phone,
        KeyKind::Identifier,
        KeyKind::Name,
        KeyKind::NamePostcode,
        KeyKind::Phonetic,
        KeyKind::EmailLocal,
        KeyKind::BirthInitial,
        KeyKind::CompanyCity,
        KeyKind::Address,
        KeyKind::NamePartPostcode,
        KeyKind::BirthPlace,
        KeyKind::Postcode,
        KeyKind::BirthDate,
        KeyKind::NamePartCity,
    ];

    /// The name shown in JSON (`"keys"`, `"blocks"`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Email => "email",
            KeyKind::Phone => "phone",
            KeyKind::Identifier => "identifier",
            KeyKind::Name => "name",
            KeyKind::NamePostcode => "name_postcode",
            KeyKind::Phonetic => "phonetic_name",
            KeyKind::EmailLocal => "email_local",
            KeyKind::BirthInitial => "birth_date_initial",
            KeyKind::CompanyCity => "company_city",
            KeyKind::Address => "address",
            KeyKind::NamePartPostcode => "name_part_postcode",
            KeyKind::BirthPlace => "birth_date_place",
            KeyKind::Postcode => "postcode",
            KeyKind::BirthDate => "birth_date",
            KeyKind::NamePartCity => "name_part_city",
        }
    }

    /// The fields every pair sharing this key agrees on by construction
    /// (left out of this key's EM session).
    pub fn forces(self) -> &'static [CompareField] {
        use CompareField::*;
        match self {
            KeyKind::Email => &[Email],
            // A local part is mostly the name spelled out ("charlie_cox"):
            // inside such a block the name agrees for namesakes too, and
            // left in, EM could take "same name" for the match class.
            KeyKind::EmailLocal => &[Email, Name],
            KeyKind::Phone => &[Phone],
            KeyKind::Identifier => &[Attr1, Attr2, Attr3],
            KeyKind::Name | KeyKind::Phonetic => &[Name, City],
            KeyKind::NamePostcode => &[Name, Postcode],
            KeyKind::BirthInitial => &[BirthDate, Name, City],
            KeyKind::CompanyCity => &[Company, City],
            KeyKind::Address => &[Street, Postcode, City],
            // One shared word lifts the name's level for everyone inside.
            KeyKind::NamePartPostcode => &[Name, Postcode, City],
            KeyKind::BirthPlace => &[BirthDate, Postcode, City],
            KeyKind::Postcode => &[Postcode, City],
            KeyKind::BirthDate => &[BirthDate],
            KeyKind::NamePartCity => &[Name, City],
        }
    }

    /// Whether the kind is loose: a value many people share in a large
    /// list (a postcode, a birth date, a name word in a city). A loose
    /// block is compared only while it is small (at most [`LOOSE_CAP`]
    /// records) and never split, and a loose kind only while its small
    /// blocks add at most [`LOOSE_BUDGET`] candidate pairs per record: on
    /// a small list, or one with many towns, it finds what the strict keys
    /// miss (records whose name and street were both mistyped); on a large
    /// one it costs nothing.
    pub fn is_loose(self) -> bool {
        matches!(
            self,
            KeyKind::Postcode | KeyKind::BirthDate | KeyKind::NamePartCity
        )
    }

    /// The kind tagged in a block id.
    pub(crate) fn of_block(id: u64) -> KeyKind {
        KeyKind::from_bits(id & KIND_BITS).unwrap_or(KeyKind::Email)
    }

    fn from_bits(b: u64) -> Option<KeyKind> {
        KeyKind::ALL.get(b as usize).copied()
    }
}

/// The largest loose block compared (see [`KeyKind::is_loose`]).
pub const LOOSE_CAP: usize = 16;

/// The most candidate pairs per record a loose kind may add beyond those
/// the strict kinds compare; a kind whose small blocks would add more is
/// left out whole.
pub const LOOSE_BUDGET: f64 = 1.0;

/// The kinds in a bit set.
pub fn kinds(mask: u16) -> Vec<KeyKind> {
    KeyKind::ALL
        .iter()
        .copied()
        .filter(|k| mask & (1 << *k as u16) != 0)
        .collect()
}

/// Block ids keep their kind in the low 4 bits.
const KIND_BITS: u64 = 0xF;

fn with_kind(h: u64, kind: KeyKind) -> u64 {
    (h & !KIND_BITS) | kind as u64
}

/// Two 64-bit values hashed into one (a key made of two values).
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    hash(0x5eed, &bytes)
}

/// The blocking keys of one record: (kind-tagged primary, secondary).
pub(crate) fn keys_of(r: &Record, out: &mut Vec<(u64, u64)>) {
    let mut push = |kind: KeyKind, primary: u64, secondary: u64| {
        if primary != 0 {
            out.push((with_kind(mix(kind as u64, primary), kind), secondary));
        }
    };
    let phonetic = r.name.as_ref().map_or(0, |n| n.phonetic);
    let name_key = r
        .name
        .as_ref()
        .filter(|n| !n.key.is_empty())
        .map_or(0, |n| {
            hash(super::prepare::seed::NAME_KEY, n.key.as_bytes())
        });
    for &(full, local) in r.emails.iter() {
        push(KeyKind::Email, full, phonetic);
        // The lowest bit is the name-derived flag, not part of the value.
        push(KeyKind::EmailLocal, local | 1, phonetic);
    }
    for &p in r.phones.iter() {
        if p >= 10_000_000 {
            push(KeyKind::Phone, p % 100_000_000 + 1, phonetic);
        }
    }
    for (slot, v) in r.ids.iter().enumerate() {
        if let Some(v) = v {
            push(
                KeyKind::Identifier,
                super::compare::id_hash(slot, v),
                phonetic,
            );
        }
    }
    if name_key != 0 {
        push(KeyKind::Name, name_key, r.city);
        if r.postcode != 0 {
            push(KeyKind::NamePostcode, mix(name_key, r.postcode), 0);
        }
    }
    push(KeyKind::Phonetic, phonetic, r.city);
    if let Some(name) = &r.name {
        if let (Some(initial), true) = (name.key.chars().next(), r.birth != 0) {
            push(
                KeyKind::BirthInitial,
                mix(u64::from(r.birth), u64::from(u32::from(initial))),
                r.city,
            );
        }
        for word in name.parts() {
            let w = hash(super::prepare::seed::NAME_KEY, word.as_bytes());
            if r.postcode != 0 {
                push(KeyKind::NamePartPostcode, mix(w, r.postcode), 0);
            }
            if r.city != 0 {
                push(KeyKind::NamePartCity, mix(w, r.city), 0);
            }
        }
    }
    push(KeyKind::Postcode, r.postcode, 0);
    push(KeyKind::BirthDate, u64::from(r.birth), 0);
    if r.birth != 0 {
        for place in [r.postcode, r.city] {
            if place != 0 {
                push(
                    KeyKind::BirthPlace,
                    mix(u64::from(r.birth), place),
                    phonetic,
                );
            }
        }
    }
    if let Some(street) = &r.street {
        let place = if r.postcode != 0 { r.postcode } else { r.city };
        if place != 0 {
            let mut words = street.split(' ');
            let head = match (words.next(), words.next()) {
                (Some(a), Some(b)) => format!("{a} {b}"),
                (Some(a), None) => a.to_owned(),
                _ => String::new(),
            };
            let h = hash(super::prepare::seed::ADDRESS, head.as_bytes());
            push(KeyKind::Address, mix(h, place), phonetic);
        }
    }
    if let (Some(company), true) = (&r.company, r.city != 0) {
        let c = hash(super::prepare::seed::COMPANY, company.as_bytes());
        push(KeyKind::CompanyCity, mix(c, r.city), phonetic);
    }
}

/// One block: its id and its members (indexes into the records).
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub id: u64,
    pub members: std::ops::Range<u32>,
}

/// An oversized block, for the report (no values: they are personal data).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LargeBlock {
    /// The key kind.
    pub key: &'static str,
    /// Records sharing the primary value.
    pub size: u64,
    /// Records of it compared after splitting by the secondary value.
    pub kept: u64,
}

/// What blocking did: the JSON `"blocks"`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BlockReport {
    /// Blocks of at least two records that were compared.
    pub blocks: u64,
    /// Blocks over the cap (split, and whatever stayed over it skipped).
    pub capped: u64,
    /// Sub-blocks skipped for still being over the cap.
    pub skipped: u64,
    /// The cap.
    pub cap: u64,
    /// Loose blocks (postcode, birth date, name word and city) left out for
    /// having more than `loose_cap` records.
    pub loose_skipped: u64,
    /// The largest loose block compared.
    pub loose_cap: u64,
    /// Loose kinds left out whole for adding more than one candidate pair
    /// per record.
    pub loose_left_out: Vec<&'static str>,
    /// The largest capped blocks, largest first (at most 10).
    pub largest: Vec<LargeBlock>,
    /// Candidate pairs by the kind of block that compared them.
    pub pairs_by_key: std::collections::BTreeMap<&'static str, u64>,
}

/// The blocks of a set of records, and each record's block ids (sorted).
pub(crate) struct Blocking {
    pub blocks: Vec<Block>,
    /// Members of all blocks, back to back.
    pub members: Vec<u32>,
    /// Record i's block ids are `ids[offsets[i]..offsets[i + 1]]`, sorted.
    offsets: Vec<u32>,
    ids: Vec<u64>,
    pub report: BlockReport,
}

impl Blocking {
    /// Builds the blocks of `records` with at most `cap` members each
    /// (loose kinds: see [`KeyKind::is_loose`]).
    pub fn build(records: &[Record], cap: usize) -> Blocking {
        let cap = cap.max(2);
        let mut entries: Vec<(u64, u64, u32)> = Vec::with_capacity(records.len() * 8);
        let mut keys = Vec::with_capacity(16);
        for (i, r) in records.iter().enumerate() {
            keys.clear();
            keys_of(r, &mut keys);
            keys.sort_unstable();
            keys.dedup_by_key(|k| k.0);
            entries.extend(keys.iter().map(|&(p, s)| (p, s, i as u32)));
        }
        entries.sort_unstable();
        let mut report = BlockReport {
            cap: cap as u64,
            loose_cap: LOOSE_CAP as u64,
            ..BlockReport::default()
        };
        let mut b = Blocking {
            blocks: Vec::new(),
            members: Vec::new(),
            offsets: Vec::new(),
            ids: Vec::new(),
            report: BlockReport::default(),
        };
        let mut memberships: Vec<(u32, u64)> = Vec::new();
        // Small loose groups, as ranges of `entries`, by kind.
        let mut loose: Vec<(KeyKind, std::ops::Range<usize>)> = Vec::new();
        let mut largest: Vec<LargeBlock> = Vec::new();
        let mut i = 0;
        while i < entries.len() {
            let primary = entries[i].0;
            let mut j = i;
            while j < entries.len() && entries[j].0 == primary {
                j += 1;
            }
            let group = &entries[i..j];
            let kind = KeyKind::from_bits(primary & KIND_BITS).unwrap_or(KeyKind::Email);
            if kind.is_loose() {
                if group.len() > LOOSE_CAP {
                    report.loose_skipped += 1;
                } else if group.len() >= 2 {
                    loose.push((kind, i..j));
                }
            } else if group.len() <= cap {
                if group.len() >= 2 {
                    b.add(primary, group, &mut memberships);
                }
            } else {
                report.capped += 1;
                let mut kept = 0u64;
                let mut a = 0;
                while a < group.len() {
                    let secondary = group[a].1;
                    let mut e = a;
                    while e < group.len() && group[e].1 == secondary {
                        e += 1;
                    }
                    let sub = &group[a..e];
                    if secondary != 0 && sub.len() <= cap {
                        if sub.len() >= 2 {
                            b.add(
                                with_kind(mix(primary, secondary), kind),
                                sub,
                                &mut memberships,
                            );
                            kept += sub.len() as u64;
                        }
                    } else if sub.len() >= 2 {
                        report.skipped += 1;
                    }
                    a = e;
                }
                largest.push(LargeBlock {
                    key: kind.as_str(),
                    size: group.len() as u64,
                    kept,
                });
                largest.sort_by(|x, y| y.size.cmp(&x.size).then(x.key.cmp(y.key)));
                largest.truncate(10);
            }
            i = j;
        }
        b.index(records.len(), &mut memberships);
        // A loose kind is kept only if its small blocks add at most the
        // budget of pairs that no strict block already compares.
        let budget = (LOOSE_BUDGET * records.len() as f64) as u64;
        let mut kept_loose = Vec::new();
        for kind in KeyKind::ALL.iter().copied().filter(|k| k.is_loose()) {
            let mut extra = 0u64;
            'groups: for (_, range) in loose.iter().filter(|(k, _)| *k == kind) {
                let m = &entries[range.clone()];
                for (x, ex) in m.iter().enumerate() {
                    for ey in &m[x + 1..] {
                        if b.shared(ex.2, ey.2).1 == 0 {
                            extra += 1;
                            if extra > budget {
                                break 'groups;
                            }
                        }
                    }
                }
            }
            if extra > budget {
                report.loose_left_out.push(kind.as_str());
            } else {
                kept_loose.push(kind);
            }
        }
        if !kept_loose.is_empty() {
            for (kind, range) in &loose {
                if kept_loose.contains(kind) {
                    let group = &entries[range.clone()];
                    b.add(group[0].0, group, &mut memberships);
                }
            }
            b.index(records.len(), &mut memberships);
        }
        drop(entries);
        report.blocks = b.blocks.len() as u64;
        report.largest = largest;
        b.report = report;
        b
    }

    /// Adds a block of `recs` (entries) with id `id`.
    fn add(&mut self, id: u64, recs: &[(u64, u64, u32)], memberships: &mut Vec<(u32, u64)>) {
        let start = self.members.len() as u32;
        for e in recs {
            self.members.push(e.2);
            memberships.push((e.2, id));
        }
        self.blocks.push(Block {
            id,
            members: start..self.members.len() as u32,
        });
    }

    /// Rebuilds every record's sorted block ids from (record, block id)
    /// memberships.
    fn index(&mut self, records: usize, memberships: &mut [(u32, u64)]) {
        memberships.sort_unstable();
        self.offsets.clear();
        self.ids.clear();
        self.offsets.reserve(records + 1);
        self.ids.reserve(memberships.len());
        let mut k = 0;
        for r in 0..records as u32 {
            self.offsets.push(self.ids.len() as u32);
            while k < memberships.len() && memberships[k].0 == r {
                self.ids.push(memberships[k].1);
                k += 1;
            }
        }
        self.offsets.push(self.ids.len() as u32);
    }

    /// Record `r`'s block ids, sorted.
    pub fn ids_of(&self, r: u32) -> &[u64] {
        let r = r as usize;
        &self.ids[self.offsets[r] as usize..self.offsets[r + 1] as usize]
    }

    /// The blocks two records share: (smallest shared id, kinds as bits).
    pub fn shared(&self, a: u32, b: u32) -> (u64, u16) {
        let (x, y) = (self.ids_of(a), self.ids_of(b));
        let (mut i, mut j) = (0, 0);
        let mut first = 0;
        let mut mask = 0u16;
        while i < x.len() && j < y.len() {
            match x[i].cmp(&y[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    if mask == 0 {
                        first = x[i];
                    }
                    mask |= 1 << (x[i] & KIND_BITS);
                    i += 1;
                    j += 1;
                }
            }
        }
        (first, mask)
    }

    /// The member indexes of a block.
    pub fn members_of(&self, b: &Block) -> &[u32] {
        &self.members[b.members.start as usize..b.members.end as usize]
    }

    /// Calls `f(a, b, kinds, block kind)` once for every candidate pair
    /// (a < b as record indexes) in the blocks `range`, only for pairs with
    /// a member `focus` accepts.
    pub fn for_pairs_in(
        &self,
        range: std::ops::Range<usize>,
        focus: Option<&[bool]>,
        mut f: impl FnMut(u32, u32, u16, KeyKind),
    ) {
        for block in &self.blocks[range] {
            let m = self.members_of(block);
            if let Some(focus) = focus {
                if !m.iter().any(|&r| focus[r as usize]) {
                    continue;
                }
            }
            for (i, &a) in m.iter().enumerate() {
                for &b in &m[i + 1..] {
                    if let Some(focus) = focus {
                        if !focus[a as usize] && !focus[b as usize] {
                            continue;
                        }
                    }
                    let (first, mask) = self.shared(a, b);
                    if first == block.id {
                        let (x, y) = if a < b { (a, b) } else { (b, a) };
                        f(x, y, mask, KeyKind::of_block(block.id));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Customer;

    fn rec(name: &str, email: &str, city: &str) -> Record {
        Record::new(&Customer {
            name: name.into(),
            emails: if email.is_empty() {
                vec![]
            } else {
                vec![email.into()]
            },
            city: (!city.is_empty()).then(|| city.into()),
            ..Customer::default()
        })
    }

    fn pairs(b: &Blocking) -> Vec<(u32, u32, Vec<KeyKind>)> {
        let mut out = Vec::new();
        b.for_pairs_in(0..b.blocks.len(), None, |x, y, m, _| {
            out.push((x, y, kinds(m)))
        });
        out.sort();
        out
    }

    #[test]
    fn pairs_meet_once_with_every_shared_key() {
        let records = vec![
            rec("Wei Zhang", "wz@x.com", "Beijing"),
            rec("Zhang Wei", "wz@x.com", "Beijing"),
            rec("张伟", "", "北京"),
            rec("Mary Jones", "mj@y.com", "London"),
        ];
        let b = Blocking::build(&records, 200);
        let got = pairs(&b);
        // 0-1 share email, local, name, phonetic; 0-2 and 1-2 only the
        // name-derived keys (the cities differ in script, but the name
        // block is small, so no split).
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, 0);
        assert_eq!(got[0].1, 1);
        for k in [
            KeyKind::Email,
            KeyKind::EmailLocal,
            KeyKind::Name,
            KeyKind::Phonetic,
        ] {
            assert!(got[0].2.contains(&k), "{k:?} in {:?}", got[0].2);
        }
        assert!(got[1].2.contains(&KeyKind::Name));
        assert!(!got.iter().any(|p| p.0 == 3 || p.1 == 3));
    }

    #[test]
    fn oversized_blocks_are_split_by_the_second_key_or_skipped() {
        let mut records = Vec::new();
        for i in 0..30 {
            let city = if i < 10 { "Beijing" } else { "" };
            records.push(rec("张伟", &format!("u{i}@x.com"), city));
        }
        let b = Blocking::build(&records, 20);
        assert!(b.report.capped >= 1);
        let got = pairs(&b);
        // Only the ten with a city still meet (by name+city), and nobody
        // without a city meets anyone by name.
        assert!(got.iter().all(|p| p.0 < 10 && p.1 < 10), "{got:?}");
        assert_eq!(got.len(), 45);
        let largest = &b.report.largest[0];
        assert_eq!(largest.size, 30);
        assert_eq!(largest.kept, 10);
    }

    #[test]
    fn focus_keeps_only_pairs_with_a_focused_member() {
        let records = vec![
            rec("Ann Lee", "a@x.com", ""),
            rec("Ann Lee", "a@x.com", ""),
            rec("Ann Lee", "a@x.com", ""),
        ];
        let b = Blocking::build(&records, 200);
        let focus = [false, false, true];
        let mut got = Vec::new();
        b.for_pairs_in(0..b.blocks.len(), Some(&focus), |x, y, _, _| {
            got.push((x, y))
        });
        got.sort();
        assert_eq!(got, [(0, 2), (1, 2)]);
    }
}
