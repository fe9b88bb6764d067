//! The scan's own closed vocabularies (what a target turned out to be, why it could not be
//! checked, where a check of `serve` stands), built like mailtls-core's: one table of stable
//! names from which the store's spelling, `as_str`/`from_name`, the JSON and its schema all
//! come. (Core's macro is crate-private: it also writes a `clap` impl behind core's feature.)

/// Defines an enum from `Variant => "name"` pairs, with `ALL` (declaration order), `as_str`,
/// `from_name`, `Display`, `Serialize` and a JSON Schema listing the names.
macro_rules! names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
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

            /// The stable name, as in the store and in JSON.
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

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
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

pub(crate) use names;

#[cfg(test)]
mod tests {
    names! {
        /// A test vocabulary.
        enum Colour {
            /// Red.
            Red => "red",
            /// Dark blue.
            DarkBlue => "dark-blue",
        }
    }

    #[test]
    fn names_round_trip() {
        for colour in Colour::ALL {
            assert_eq!(Colour::from_name(colour.as_str()), Some(*colour));
        }
        assert_eq!(Colour::from_name("Red"), None);
        assert_eq!(
            serde_json::to_string(&Colour::ALL).unwrap_or_default(),
            r#"["red","dark-blue"]"#
        );
    }
}
