//! The values of a report's fields, each read liberally: texts, times, counts, the
//! `policy-string` and `mx-host` lists; and what every visitor shares (field names, passing over
//! what is not used).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::super::{clean, host_name, time_of};

/// Most entries kept of one `policy-string` or `mx-host` list.
pub const MAX_LIST: usize = 1_000;

/// Longest `policy-string` entry looked into for a JSON list of records (Microsoft's TLSA
/// policies).
const MAX_NESTED_LIST: usize = 64 * 1024;
/// Reads a map's keys as the index of a known name (None: another key).
pub(super) struct Field(pub(super) &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Field {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for Field {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|known| *known == name))
    }
}

/// Passes over the rest of a map.
pub(super) fn skip_map<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Passes over the rest of a list.
pub(super) fn skip_seq<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// The `visit_*` methods of a visitor for the JSON types it makes nothing of: each gives
/// `$value`, a list or an object being passed over first.
macro_rules! otherwise {
    ($value:expr; $($kind:ident),*) => { $( otherwise!(@one $value; $kind); )* };
    (@one $value:expr; bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; i64) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; u64) => {
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; f64) => {
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; str) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; unit) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($value) }
    };
    (@one $value:expr; seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            $crate::analyze::tlsrpt::json::values::skip_seq(&mut seq)?;
            Ok($value)
        }
    };
    (@one $value:expr; map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            $crate::analyze::tlsrpt::json::values::skip_map(&mut map)?;
            Ok($value)
        }
    };
}
/// A text field: a string (or a number, as some senders write codes), cleaned; empty, or of
/// another type, is none.
pub(super) struct Text;

impl<'de> DeserializeSeed<'de> for Text {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Text {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a text")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let cleaned = clean(text.trim());
        Ok((!cleaned.is_empty()).then_some(cleaned))
    }
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        Ok(Some(number.to_string()))
    }
    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
        Ok(Some(number.to_string()))
    }
    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Self::Value, E> {
        Ok(Some(number.to_string()))
    }
    otherwise!(None; bool, unit, seq, map);
}

/// A time: RFC 3339 (some senders write a space for the `T` or leave out the offset, then UTC),
/// or a number of Unix seconds; anything else is none.
pub(super) struct Time;

impl<'de> DeserializeSeed<'de> for Time {
    type Value = Option<i64>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Time {
    type Value = Option<i64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a time")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(time_of(text))
    }
    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Self::Value, E> {
        Ok(time::OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .map(|_| seconds))
    }
    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Self::Value, E> {
        i64::try_from(seconds).map_or(Ok(None), |s| self.visit_i64(s))
    }
    otherwise!(None; bool, f64, unit, seq, map);
}

/// A count: a non-negative whole number, or a string holding one; `null` or an empty string
/// is 0; anything else makes the report unusable (its sums would be wrong).
pub(super) struct Count(pub(super) &'static str);

impl Count {
    fn wrong<E: de::Error>(&self) -> E {
        E::custom(format!("{} is not a count", self.0))
    }
}

impl<'de> DeserializeSeed<'de> for Count {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a count for {}", self.0)
    }
    fn visit_u64<E: de::Error>(self, count: u64) -> Result<u64, E> {
        Ok(count)
    }
    fn visit_i64<E: de::Error>(self, count: i64) -> Result<u64, E> {
        u64::try_from(count).map_err(|_| self.wrong())
    }
    fn visit_f64<E: de::Error>(self, count: f64) -> Result<u64, E> {
        // 12.0 is a count; 1.5 and -3.0 are not.
        if count.fract() == 0.0 && (0.0..1.8e19).contains(&count) {
            Ok(count as u64)
        } else {
            Err(self.wrong())
        }
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(0);
        }
        text.parse().map_err(|_| self.wrong())
    }
    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<u64, E> {
        Err(self.wrong())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<u64, A::Error> {
        Err(self.wrong())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<u64, A::Error> {
        Err(self.wrong())
    }
}

/// `policy-string`: a list of strings, or one; with `nested`, an entry that is itself a JSON
/// list of strings (Microsoft's TLSA records) is read as its entries.
pub(super) struct Strings {
    /// Whether an entry may be a JSON list of entries.
    pub(super) nested: bool,
}

impl Strings {
    fn push(&self, strings: &mut Vec<String>, text: &str) {
        let trimmed = text.trim();
        if self.nested && trimmed.starts_with('[') && trimmed.len() <= MAX_NESTED_LIST {
            let mut inner = serde_json::Deserializer::from_str(trimmed);
            if let Ok(entries) = (Strings { nested: false }).deserialize(&mut inner) {
                if inner.end().is_ok() {
                    for entry in entries {
                        if strings.len() < MAX_LIST {
                            strings.push(entry);
                        }
                    }
                    return;
                }
            }
        }
        let cleaned = clean(trimmed);
        if !cleaned.is_empty() && strings.len() < MAX_LIST {
            strings.push(cleaned);
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strings {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strings {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of strings")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let mut strings = Vec::new();
        self.push(&mut strings, text);
        Ok(strings)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut strings = Vec::new();
        while strings.len() < MAX_LIST {
            match seq.next_element_seed(Entry)? {
                Some(Some(entry)) => self.push(&mut strings, &entry),
                Some(None) => {}
                None => return Ok(strings),
            }
        }
        // Full: the rest is passed over unread.
        skip_seq(&mut seq)?;
        Ok(strings)
    }
    otherwise!(Vec::new(); bool, i64, u64, f64, unit, map);
}

/// A `policy-string` entry, as written (cleaned and cut once it is known not to be a nested
/// list); of another type, none.
struct Entry;

impl<'de> DeserializeSeed<'de> for Entry {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entry {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a policy string")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Some(text.to_string()))
    }
    otherwise!(None; bool, i64, u64, f64, unit, seq, map);
}

/// `mx-host`: a list of names or of objects naming a host, or one of either.
pub(super) struct MxHosts;

impl MxHosts {
    fn push(hosts: &mut Vec<String>, name: Option<String>) {
        if let Some(name) = name.map(|n| host_name(&n)).filter(|n| !n.is_empty()) {
            if hosts.len() < MAX_LIST && !hosts.contains(&name) {
                hosts.push(name);
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for MxHosts {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MxHosts {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("MX host patterns")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut hosts = Vec::new();
        while hosts.len() < MAX_LIST {
            match seq.next_element_seed(MxHost)? {
                Some(name) => MxHosts::push(&mut hosts, name),
                None => return Ok(hosts),
            }
        }
        // Full: the rest is passed over unread.
        skip_seq(&mut seq)?;
        Ok(hosts)
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let mut hosts = Vec::new();
        MxHosts::push(&mut hosts, MxHost.visit_str(text)?);
        Ok(hosts)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut hosts = Vec::new();
        MxHosts::push(&mut hosts, MxHost.visit_map(map)?);
        Ok(hosts)
    }
    otherwise!(Vec::new(); bool, i64, u64, f64, unit);
}

/// One `mx-host` entry: a name, or an object naming one (`hostname`, else `mx-host`, `host`,
/// `name`).
struct MxHost;

const HOST_FIELDS: &[&str] = &["hostname", "mx-host", "host", "name"];

impl<'de> DeserializeSeed<'de> for MxHost {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MxHost {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an MX host")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Text.visit_str(text)
    }
    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
        Text.visit_u64(number)
    }
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        Text.visit_i64(number)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: [Option<String>; 4] = Default::default();
        while let Some(field) = map.next_key_seed(Field(HOST_FIELDS))? {
            match field {
                Some(index) => found[index] = map.next_value_seed(Text)?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(found.into_iter().flatten().next())
    }
    otherwise!(None; bool, f64, unit, seq);
}
