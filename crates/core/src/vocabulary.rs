//! Closed vocabularies: enums whose every value has one stable name (kebab-case, as in JSON and
//! saved files). The name table is the contract: serialization, parsing and the JSON Schema all
//! come from it, so renaming a Rust variant can never change the output by accident.

/// Defines a vocabulary enum from `Variant => "name"` pairs (optionally `| "alias"`es, accepted
/// on the command line only), with `ALL` (declaration order, which is also its `Ord`), `as_str`,
/// `from_name`, serde, clap's `ValueEnum` and a JSON Schema listing the names.
macro_rules! vocabulary {
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
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                $name::from_name(&text)
                    .ok_or_else(|| serde::de::Error::unknown_variant(&text, &[$( $text, )+]))
            }
        }

        // For the command line: `--client outlook`, `--format thunderbird` (aliases too).
        // Only with the `clap` feature: the library needs no argument parser.
        #[cfg(feature = "clap")]
        impl clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }

            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(match self {
                    $( $name::$variant => clap::builder::PossibleValue::new($text)
                        $( .alias($alias) )*, )+
                })
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_id() -> std::borrow::Cow<'static, str> {
                concat!(module_path!(), "::", stringify!($name)).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "enum": [$( $text, )+] })
            }
        }
    };
}

pub(crate) use vocabulary;

#[cfg(test)]
mod tests {
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
    }
}
