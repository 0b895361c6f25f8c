//! The one rule for matching text ignoring case, used by every case-insensitive comparison of
//! names (user search, login, "unique ignoring case"), in every store: the NFKC form of the
//! Unicode default full case folding of the text's compatibility decomposition (the
//! "compatibility caseless match" of Unicode §3.13, kept composed so keys stay short), so that
//! a name typed in fullwidth forms or with a ligature (`ａｌｉｃｅ`, `ﬁona`) is the same name.
//!
//! One addition to the standard folding: a dot above right after `i` is dropped, so that the
//! Turkish `İ` (which folds to `i` + U+0307) matches `I` and `i` as people on other keyboards
//! type it (`ilker` finds `İlker`). The dotless `ı` stays itself.
//!
//! Why not `str::to_lowercase` or SQL `lower()`: lowercasing is for display and depends on
//! context (final `Σ` becomes `ς` at the end of a word only) and, in a database, on its
//! collation (`İ` lowercases to `i` under glibc, to `i̇` in Rust), so two lowercasings of one
//! name disagree and a user cannot find themselves. Folding maps `Σ`, `σ` and `ς` to `σ` and
//! `ß` and `SS` to `ss`, the same everywhere, because it is computed here only.

use icu_casemap::CaseMapper;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};

/// The case-insensitive key of `text`: two texts match ignoring case exactly when their keys
/// are equal, and one is a prefix of the other ignoring case when its key is a prefix of the
/// other's key (compared as bytes or as characters, which agree in UTF-8).
pub fn case_key(text: &str) -> String {
    let decomposed = DecomposingNormalizerBorrowed::new_nfkd().normalize(text);
    let folded = CaseMapper::new().fold_string(&decomposed);
    let mut undotted = String::with_capacity(folded.len());
    let mut previous = None;
    for c in folded.chars() {
        if !(c == COMBINING_DOT_ABOVE && previous == Some('i')) {
            undotted.push(c);
        }
        previous = Some(c);
    }
    ComposingNormalizerBorrowed::new_nfkc()
        .normalize(&undotted)
        .into_owned()
}

/// What `İ` leaves after `i` when folded.
const COMBINING_DOT_ABOVE: char = '\u{307}';

/// `text` in Normalization Form C, so that the same name typed on two keyboards (precomposed
/// `é`, or `e` and a combining accent) is stored, shown and compared as one.
pub fn nfc(text: &str) -> String {
    ComposingNormalizerBorrowed::new_nfc()
        .normalize(text)
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_agree_where_lowercasing_does_not() {
        assert_eq!(case_key("İlker"), "ilker", "İ matches I and i");
        assert_eq!(case_key("ILKER"), "ilker");
        assert_eq!(case_key("İL"), case_key("i\u{307}l"));
        assert_eq!(case_key("ΝΙΚΟΣ"), case_key("νικος"));
        assert_eq!(case_key("ΝΙΚΟΣ"), "νικοσ");
        assert_eq!(case_key("Straße"), case_key("STRASSE"));
        assert_eq!(case_key("ılgaz"), "ılgaz", "dotless i stays itself");
        assert_eq!(case_key("АЛИСА Smith"), "алиса smith");
    }

    #[test]
    fn compatibility_forms_are_the_same_name() {
        assert_eq!(case_key("ａｌｉｃｅ"), "alice", "fullwidth");
        assert_eq!(case_key("ＡＬＩＣＥ"), "alice");
        assert_eq!(case_key("ﬁona"), "fiona", "a ligature");
        assert_eq!(case_key("Ａｎｇｓｔｒöｍ"), case_key("ANGSTRÖM"));
    }

    #[test]
    fn keys_ignore_how_an_accent_was_typed() {
        let composed = "Jos\u{e9}";
        let decomposed = "Jose\u{301}";
        assert_eq!(case_key(composed), case_key(decomposed));
        assert_eq!(case_key("JOSE\u{301}"), "jos\u{e9}");
        assert_eq!(nfc(decomposed), composed);
        assert_ne!(case_key("Jose"), case_key(composed), "accents still matter");
    }
}
