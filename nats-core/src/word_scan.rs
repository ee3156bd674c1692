//! Looking at eight bytes of a string at once (SWAR: SIMD within a register), for the short
//! strings the client checks on every message: subjects and ack reply subjects. Words are
//! read little-endian, so lane `i` of a word is byte `i` of the slice on every machine.

/// Eight copies of a byte.
pub(crate) const fn lanes(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

const LOW_BITS: u64 = lanes(0x7f);
const HIGH_BITS: u64 = lanes(0x80);

/// `0x80` in exactly the lanes of `word` that are zero.
pub(crate) const fn zero_lanes(word: u64) -> u64 {
    !(((word & LOW_BITS).wrapping_add(LOW_BITS)) | word | LOW_BITS)
}

/// `0x80` in exactly the lanes of `word` that hold `byte`.
pub(crate) const fn lanes_equal(word: u64, byte: u8) -> u64 {
    zero_lanes(word ^ lanes(byte))
}

/// Whether some lane of `word` is below `0x21` (whitespace, NUL and other control bytes).
pub(crate) const fn has_control(word: u64) -> bool {
    word.wrapping_sub(lanes(0x21)) & !word & HIGH_BITS != 0
}

/// The eight bytes of `bytes` from `start` as a word (`start + 8 <= bytes.len()`), or, past
/// the end, the bytes there are padded with `pad`.
pub(crate) fn word_at(bytes: &[u8], start: usize, pad: u8) -> u64 {
    if let Some(whole) = bytes.get(start..start + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(whole);
        return u64::from_le_bytes(word);
    }
    let mut word = [pad; 8];
    let end = bytes.len().min(start + 8);
    if let Some(part) = bytes.get(start..end) {
        word[..part.len()].copy_from_slice(part);
    }
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_and_equal_lanes() {
        assert!(!has_control(u64::from_le_bytes(*b"abcdefgh")));
        assert!(has_control(u64::from_le_bytes(*b"abc defg")));
        assert!(has_control(u64::from_le_bytes(*b"abcdefg\0")));
        assert!(!has_control(u64::from_le_bytes([
            0xc3, 0xa9, b'a', b'b', 0xff, 0x80, 0x21, 0x7f
        ])));
        assert_eq!(
            lanes_equal(u64::from_le_bytes(*b"a.b..c.d"), b'.'),
            0x0080_0080_8000_8000
        );
    }
}
