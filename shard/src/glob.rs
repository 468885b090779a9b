//! Glob-style pattern matching with the semantics of Redis' `stringmatchlen` (KEYS, SCAN MATCH,
//! PSUBSCRIBE, CONFIG GET, ACL key and channel patterns).
//!
//! - `*` matches any run of bytes, `?` exactly one byte;
//! - `[abc]`, `[^abc]`, `[a-z]` (reversed ranges are swapped), `\x` escapes `x`;
//! - byte-oriented: a multi-byte UTF-8 character is several bytes for `?`;
//! - `nocase` folds ASCII letters only.
//!
//! Redis' quirks are kept on purpose, because clients see them: an unclosed `[` runs to the end
//! of the pattern, `[]` matches nothing and `[^]` any byte, the end of a range is taken
//! literally (`[a-]` is the range `]`..`a`), an escape inside a class compares case-sensitively
//! even with `nocase`, and a non-empty pattern never matches the empty string (`KEYS **` does not
//! list the key `""`; only the exact pattern `*` does, through the callers' match-all shortcut).
//!
//! Redis matches recursively, one level per `*`, which is exponential on patterns like
//! `a*a*a*a*b`. This matcher is iterative and only ever backtracks to the last `*` seen: every
//! other token consumes exactly one byte, so an earlier star never needs a second chance once a
//! later one is reached. Time is O(pattern x string), memory O(1).

/// Redis gives up (no match) on the 1001st `*` it must expand, to bound its recursion.
/// Kept so that the same patterns fail the same way.
const MAX_STAR_GROUPS: usize = 1000;

/// True if `s` matches the glob `pattern`. `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut p = 0;
    let mut i = 0;
    // The last star seen: the pattern position after it and the string position its
    // current attempt starts at.
    let mut last_star: Option<(usize, usize)> = None;
    let mut star_groups = 0;

    loop {
        // Redis only compares while both sides have input left.
        if p < pattern.len() && i < s.len() {
            if pattern[p] == b'*' {
                p = skip_stars(pattern, p);
                if p == pattern.len() {
                    return true; // a trailing star eats the rest
                }
                star_groups += 1;
                if star_groups > MAX_STAR_GROUPS {
                    return false;
                }
                last_star = Some((p, i)); // first try: the star matches nothing
                continue;
            }
            let (matched, next) = match_one(pattern, p, s[i], nocase);
            if matched {
                p = next;
                i += 1;
                if i == s.len() {
                    // Stars after the last byte match the empty rest; Redis skips them only
                    // here, which is why `*` alone does not match "".
                    p = skip_stars(pattern, p);
                }
                continue;
            }
        } else if p == pattern.len() && i == s.len() {
            return true;
        }
        // Mismatch: let the last star swallow one more byte, if one is left for the rest.
        match last_star {
            Some((star_p, star_i)) if star_i + 1 < s.len() => {
                last_star = Some((star_p, star_i + 1));
                p = star_p;
                i = star_i + 1;
            }
            _ => return false,
        }
    }
}

/// The position after the run of `*` starting at `p`.
fn skip_stars(pattern: &[u8], mut p: usize) -> usize {
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p
}

/// Matches the single-byte token at `pattern[p]` (not a star) against `c`. Returns whether it
/// matched and where the next token starts.
fn match_one(pattern: &[u8], p: usize, c: u8, nocase: bool) -> (bool, usize) {
    match pattern[p] {
        b'?' => (true, p + 1),
        b'[' => match_class(pattern, p + 1, c, nocase),
        // A lone trailing backslash is a literal backslash.
        b'\\' if p + 1 < pattern.len() => (same_byte(pattern[p + 1], c, nocase), p + 2),
        lit => (same_byte(lit, c, nocase), p + 1),
    }
}

/// Matches the character class whose body starts at `pattern[p]` (just after `[`) against `c`.
/// Returns whether it matched and the position after the closing `]` (or the pattern's end
/// when the class is unclosed).
fn match_class(pattern: &[u8], mut p: usize, c: u8, nocase: bool) -> (bool, usize) {
    let negated = pattern.get(p) == Some(&b'^');
    if negated {
        p += 1;
    }
    let mut matched = false;
    while p < pattern.len() {
        let b = pattern[p];
        if b == b'\\' && p + 1 < pattern.len() {
            p += 1;
            // Redis compares escaped class members exactly, even with nocase.
            matched |= pattern[p] == c;
        } else if b == b']' {
            return (matched != negated, p + 1);
        } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' {
            matched |= in_range(b, pattern[p + 2], c, nocase);
            p += 2;
        } else {
            matched |= same_byte(b, c, nocase);
        }
        p += 1;
    }
    (matched != negated, p)
}

/// Redis' range test: swap a reversed range, then fold case (in that order: with `nocase`,
/// `[Z-a]` becomes `z`..`a`, which is empty).
fn in_range(start: u8, end: u8, c: u8, nocase: bool) -> bool {
    let (mut lo, mut hi) = if start > end {
        (end, start)
    } else {
        (start, end)
    };
    let mut c = c;
    if nocase {
        lo = lo.to_ascii_lowercase();
        hi = hi.to_ascii_lowercase();
        c = c.to_ascii_lowercase();
    }
    (lo..=hi).contains(&c)
}

#[inline]
fn same_byte(a: u8, b: u8, nocase: bool) -> bool {
    a == b || (nocase && a.eq_ignore_ascii_case(&b))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    /// `(pattern, string, expected case-sensitive, expected nocase)`
    fn check(cases: &[(&str, &str, bool, bool)]) {
        for &(p, s, case, nocase) in cases {
            assert_eq!(
                glob_match(p.as_bytes(), s.as_bytes(), false),
                case,
                "pattern {p:?} string {s:?}"
            );
            assert_eq!(
                glob_match(p.as_bytes(), s.as_bytes(), true),
                nocase,
                "pattern {p:?} string {s:?} (nocase)"
            );
        }
    }

    #[test]
    fn literals_and_wildcards() {
        check(&[
            ("", "", true, true),
            ("a", "", false, false),
            ("", "a", false, false),
            ("hello", "hello", true, true),
            ("hello", "hell", false, false),
            ("hello", "helloo", false, false),
            ("h?llo", "hello", true, true),
            ("h?llo", "hllo", false, false),
            ("h?llo", "heello", false, false),
            ("h*llo", "hllo", true, true),
            ("h*llo", "heeeello", true, true),
            ("h*o", "hellp", false, false),
            ("*", "anything", true, true),
            ("*world*", "hello world again", true, true),
            ("a*b*c", "abbbbbc", true, true),
            ("a*b*c", "abbbbb", false, false),
            ("*a", "bbba", true, true),
            ("*a", "bbab", false, false),
            ("a*", "a", true, true),
            ("a**", "a", true, true),
            ("a*?", "a", false, false),
            ("a*?", "ab", true, true),
            ("?*", "x", true, true),
            ("*?", "x", true, true),
            ("??", "x", false, false),
            ("foo*bar", "foobar", true, true),
            ("foo*bar", "fooXbarYbar", true, true),
            ("foo*bar", "fooXbarY", false, false),
            ("*b*b*", "abab", true, true),
            ("Hello", "hELLO", false, true),
            ("a", "A", false, true),
            ("A", "a", false, true),
        ]);
    }

    #[test]
    fn empty_string_matches_only_the_empty_pattern() {
        // Redis' loop never runs on an empty string; KEYS * lists "" only through its shortcut.
        check(&[
            ("*", "", false, false),
            ("**", "", false, false),
            ("?", "", false, false),
            ("[^]", "", false, false),
            ("[]", "", false, false),
        ]);
    }

    #[test]
    fn escapes() {
        check(&[
            ("\\a", "a", true, true),
            ("\\a", "A", false, true),
            ("\\A", "a", false, true),
            ("\\*", "*", true, true),
            ("\\*", "x", false, false),
            ("\\?", "?", true, true),
            ("\\?", "x", false, false),
            ("\\\\", "\\", true, true),
            ("\\[", "[", true, true),
            ("\\]", "]", true, true),
            ("\\^", "^", true, true),
            ("\\-", "-", true, true),
            ("a\\*b", "a*b", true, true),
            ("a\\*b", "axb", false, false),
            // A trailing lone backslash is literal.
            ("a\\", "a\\", true, true),
            ("\\", "\\", true, true),
        ]);
    }

    #[test]
    fn classes() {
        check(&[
            ("[abc]", "a", true, true),
            ("[abc]", "d", false, false),
            ("[abc]", "A", false, true),
            ("[^abc]", "d", true, true),
            ("[^abc]", "a", false, false),
            ("[^abc]", "A", true, false),
            ("[a-c]", "b", true, true),
            ("[a-c]", "B", false, true),
            ("[a-c]", "d", false, false),
            ("[c-a]", "b", true, true), // reversed ranges are swapped
            ("[^a-c]", "b", false, false),
            ("[a-cx-z]", "y", true, true),
            ("h[ae]llo", "hello", true, true),
            ("h[ae]llo", "hillo", false, false),
            ("[*]", "*", true, true),
            ("[?]", "?", true, true),
            ("[?]", "a", false, false),
            ("[[]", "[", true, true),
            ("[-]", "-", true, true),
            ("]", "]", true, true),
            ("^", "^", true, true),
            ("-", "-", true, true),
            // Escapes inside a class, compared exactly even with nocase.
            ("[\\a]", "a", true, true),
            ("[\\a]", "A", false, false),
            ("[\\A]", "a", false, false),
            ("[\\*]", "*", true, true),
            ("[\\\\]", "\\", true, true),
            ("[\\]]", "]", true, true),
            ("[\\]a]", "a", true, true),
            ("[\\^]", "^", true, true),
            ("[\\-]", "-", true, true),
            // Case folding of ranges happens after the swap: [Z-a] folds to the empty z..a.
            ("[Z-a]", "_", true, false),
            ("[A-Z]", "q", false, true),
        ]);
    }

    #[test]
    fn odd_classes_as_redis() {
        check(&[
            // Empty and unclosed classes.
            ("[]", "a", false, false),
            ("[", "a", false, false),
            ("[^]", "a", true, true),
            ("[^]", "ab", false, false),
            ("[^", "a", true, true),
            ("[^", "ab", false, false),
            ("[A-", "B", false, false),
            ("[ab", "b", true, true),
            ("[ab", "bc", false, false), // the unclosed class ate the rest of the pattern
            // The end of a range is literal, even `]` or `\`.
            ("[a-]", "a", true, true),
            ("[a-]", "]", true, true),
            ("[a-]", "_", true, true),
            ("[a-]", "b", false, false),
            ("[+-]]", ",", true, true),
            ("[+-]]", "*", false, false),
            ("[+-]]", "^", false, false),
            ("[+--]", ",", true, true),
            ("[+--]", ".", false, false),
            ("[+-\\]", "\\", true, true),
            ("[+-\\]", ",", true, true),
            ("[+-\\]", "]", false, false),
            // After the range `+`..`\`, `\]` is an escaped `]` and the class stays open.
            ("[+-\\\\]", "]", true, true),
            ("[+-\\\\]", ",", true, true),
            ("[+-\\\\]]", "\\]", false, false),
            // An escaped `]` at a range start is just a member, not a range start.
            ("[\\]-_]", "-", true, true),
            ("[\\]-_]", "_", true, true),
            ("[\\]-_]", "^", false, false),
            // Class followed by more pattern.
            ("[ab]c", "bc", true, true),
            ("[ab]c", "bd", false, false),
            ("x[^a]y", "xby", true, true),
            ("x[^a]y", "xay", false, false),
        ]);
    }

    #[test]
    fn bytes_not_characters() {
        assert!(glob_match(b"?", &[0xff], false));
        assert!(!glob_match(b"?", "é".as_bytes(), false)); // two bytes
        assert!(glob_match(b"??", "é".as_bytes(), false));
        assert!(glob_match(b"*\x00*", b"a\x00b", false));
        assert!(glob_match(b"[\x80-\xff]", &[0xc3], false));
        assert!(!glob_match(b"[\x80-\xff]", b"a", false));
        // No case folding outside ASCII.
        assert!(!glob_match("É".as_bytes(), "é".as_bytes(), true));
    }

    #[test]
    fn abusive_patterns_are_fast() {
        // Exponential for a naive recursive matcher; here O(pattern x string).
        let s = vec![b'a'; 50_000];
        assert!(!glob_match(
            b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            &s,
            false
        ));
        assert!(!glob_match(
            b"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            &s,
            true
        ));
        let long = "*a".repeat(900) + "*b";
        assert!(!glob_match(long.as_bytes(), &s, false));
        assert!(glob_match(
            b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a",
            &s,
            false
        ));
        // Redis' regression test: a long string of 'a' against a long pattern of "*a".
        let s = vec![b'a'; 10_000];
        let p = "*a".repeat(500) + "b";
        assert!(!glob_match(p.as_bytes(), &s, false));
    }

    #[test]
    fn star_group_limit_as_redis() {
        let s = vec![b'a'; 1100];
        for (groups, trailing_star, expected) in [
            (1000, false, true),
            (1000, true, true),
            // The 1001st star is still allowed when it ends the pattern (Redis returns before
            // recursing), never when more pattern follows.
            (1001, true, true),
            (1001, false, false),
            (1002, true, false),
        ] {
            let p = if trailing_star {
                "a*".repeat(groups)
            } else {
                "*a".repeat(groups)
            };
            assert_eq!(
                glob_match(p.as_bytes(), &s, false),
                expected,
                "{groups} {trailing_star}"
            );
        }
        // Consecutive stars are one group.
        let p = "a".to_string() + &"*".repeat(5000) + "a";
        assert!(glob_match(p.as_bytes(), b"aa", false));
    }
}
