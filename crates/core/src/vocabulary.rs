//! Closed vocabularies: enums whose every value has one stable name (kebab-case, as in JSON and
//! saved files). The name table is the contract: serialization, parsing and the JSON Schema all
//! come from it, so renaming a Rust variant can never change the output by accident.

/// Defines a vocabulary enum from `Variant => "name"` pairs (optionally `| "alias"`es, accepted
/// on the command line only), with `ALL` (declaration order, which is also its `Ord`), `as_str`,
/// `from_name`, serde, clap's `ValueEnum` (with core's `clap` feature) and a JSON Schema listing
/// the names. Exported (as `mailtls_core::vocabulary::vocabulary!`) so the other crates build
/// their vocabularies the same way; the crates it names are reached through core.
#[doc(hidden)]
#[macro_export]
macro_rules! __vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal $(| $alias:literal)*, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$( $name::$variant, )+];

            /// The stable name, as in JSON.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The value with this stable name.
            pub fn from_name(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl $crate::vocabulary::serde::Serialize for $name {
            fn serialize<S: $crate::vocabulary::serde::Serializer>(
                &self,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::vocabulary::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::vocabulary::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as $crate::vocabulary::serde::Deserialize>
                    ::deserialize(deserializer)?;
                $name::from_name(&text).ok_or_else(|| {
                    <D::Error as $crate::vocabulary::serde::de::Error>::unknown_variant(
                        &text,
                        &[$( $text, )+],
                    )
                })
            }
        }

        // For the command line: `--client outlook`, `--format thunderbird` (aliases too).
        $crate::__vocabulary_clap! { $name { $( $variant => $text $(| $alias)*, )+ } }

        impl $crate::vocabulary::schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_id() -> std::borrow::Cow<'static, str> {
                concat!(module_path!(), "::", stringify!($name)).into()
            }

            fn json_schema(
                _: &mut $crate::vocabulary::schemars::SchemaGenerator,
            ) -> $crate::vocabulary::schemars::Schema {
                $crate::vocabulary::schemars::json_schema!({
                    "type": "string",
                    "enum": [$( $text, )+]
                })
            }
        }
    };
}

/// clap's `ValueEnum` for a vocabulary: with core's `clap` feature (the binary's), decided here
/// in core and not in the crate the vocabulary is written in.
#[cfg(feature = "clap")]
#[doc(hidden)]
#[macro_export]
macro_rules! __vocabulary_clap {
    ($name:ident { $( $variant:ident => $text:literal $(| $alias:literal)*, )+ }) => {
        impl $crate::vocabulary::clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }

            fn to_possible_value(&self) -> Option<$crate::vocabulary::clap::builder::PossibleValue> {
                Some(match self {
                    $( $name::$variant => $crate::vocabulary::clap::builder::PossibleValue::new($text)
                        $( .alias($alias) )*, )+
                })
            }
        }
    };
}

/// Without the `clap` feature: nothing (the library needs no argument parser).
#[cfg(not(feature = "clap"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __vocabulary_clap {
    ($($anything:tt)*) => {};
}

pub use crate::__vocabulary as vocabulary;
// The crates the macro's expansion names, reached through core wherever it is used.
#[cfg(feature = "clap")]
#[doc(hidden)]
pub use clap;
#[doc(hidden)]
pub use schemars;
#[doc(hidden)]
pub use serde;

#[cfg(test)]
mod tests {
    use super::vocabulary;

    vocabulary! {
        /// A test vocabulary.
        enum Colour {
            /// Red.
            Red => "red",
            /// Dark blue.
            DarkBlue => "dark-blue",
        }
    }

    #[test]
    fn names_round_trip_and_order_holds() {
        assert_eq!(Colour::DarkBlue.as_str(), "dark-blue");
        assert_eq!(Colour::from_name("red"), Some(Colour::Red));
        assert_eq!(Colour::from_name("Red"), None);
        assert!(Colour::Red < Colour::DarkBlue);
        let json = serde_json::to_string(&Colour::ALL).unwrap_or_default();
        assert_eq!(json, r#"["red","dark-blue"]"#);
        let back: Vec<Colour> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, Colour::ALL);
        assert!(serde_json::from_str::<Colour>("\"green\"").is_err());
        // Display keeps a width (tables of the scan's report use it).
        assert_eq!(format!("{:<5}|", Colour::Red), "red  |");
    }
}
