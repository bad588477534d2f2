//! Text from outside relctl (a platform's answer, a command's output, a metrics or
//! notify server's error) made safe to print and to record: a control character could
//! move the cursor, retitle or clear the terminal, and a NUL cannot be written into a
//! git commit message, so every one is shown as an escape instead.

use std::borrow::Cow;

/// `text` with every control character but line feed and tab written visibly: NUL as
/// `\0`, carriage return as `\r`, ESC as `\x1b`, C1 controls as `\u{9b}`, and the
/// characters that reorder or hide text as `\u{202e}` (`is_hidden`).
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            _ if !is_hidden(c) => out.push(c),
            '\0' => out.push_str("\\0"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// `text` as one line, for a place that shows one (an event's description, a problem
/// found in a plan): `visible`, with its line breaks written `\n` as well.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.contains('\n') {
        return visible(text);
    }
    Cow::Owned(visible(text).replace('\n', "\\n"))
}

/// A control character a terminal or git would act on rather than show, or a character
/// that reorders or hides the text around it (a bidirectional override, a zero-width
/// space), which would make a line read other than it is.
fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_would_read_reordered_or_hidden_is_shown_escaped() {
        assert_eq!(visible("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(visible("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(visible("naïve ✓ ünïcode"), "naïve ✓ ünïcode");
    }

    #[test]
    fn one_line_writes_line_breaks_as_escapes() {
        assert_eq!(one_line("plain"), "plain");
        assert_eq!(one_line("bad\nbuild\r\n"), "bad\\nbuild\\r\\n");
        assert_eq!(one_line("a\x1b[2Jb"), "a\\x1b[2Jb");
    }

    #[test]
    fn shows_control_characters_as_escapes() {
        assert_eq!(visible("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(visible("a\0b"), "a\\0b");
        assert_eq!(
            visible("\x1b]0;title\x07\x1b[2J"),
            "\\x1b]0;title\\x07\\x1b[2J"
        );
        assert_eq!(visible("cr\rdel\x7f"), "cr\\rdel\\x7f");
        assert_eq!(visible("csi\u{9b}2J é"), "csi\\u{9b}2J é");
    }
}
