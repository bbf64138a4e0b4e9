//! A small reader of an Exif block's TIFF structure, for blocks the Exif library gives up on.
//!
//! Writers get Exif wrong in ways a strict reader refuses as a whole: piexif leaves out the
//! next-IFD offset of its sub-IFDs, editors leave a GPS pointer that points past the block,
//! uploads and copies cut blocks short. The picture still displays rotated by its IFD0
//! orientation, so that orientation must be kept; and the report should still say what the
//! block held. This reader takes what is there: IFD0's entries, and the entries of the Exif and
//! GPS sub-IFDs it points to, up to where the data ends.
//!
//! Every read is bounds-checked, nothing is followed twice or deeper than one level, and the
//! work is bounded by the entry counts (at most 65,535 per IFD, three IFDs): arbitrary bytes
//! give an answer or `None`, never a panic or a long loop.

/// Which IFD an entry was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ifd {
    /// IFD0: the primary image (orientation, make, model, artist...).
    Primary,
    /// The Exif sub-IFD (capture settings, serial numbers, lens...).
    Exif,
    /// The GPS sub-IFD.
    Gps,
}

/// What a TIFF/Exif block holds, as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawExif {
    /// IFD0's orientation (1 to 8), when it has a readable one.
    pub orientation: Option<u16>,
    /// The tags found, with their IFD, in the order they were read.
    pub tags: Vec<(Ifd, u16)>,
    /// Sub-IFDs that IFD0 points to but that could not be read (offset out of the block).
    pub unreadable: Vec<Ifd>,
}

const ORIENTATION: u16 = 0x0112;
const EXIF_POINTER: u16 = 0x8769;
const GPS_POINTER: u16 = 0x8825;
const ENTRY_LEN: usize = 12;

/// TIFF field types this reader takes a number from.
const BYTE: u16 = 1;
const SHORT: u16 = 3;
const LONG: u16 = 4;
/// The TIFF "IFD" type (13), which some writers use for sub-IFD pointers.
const IFD: u16 = 13;

/// Reads `tiff` (the TIFF data of an Exif block, after JPEG's `Exif\0\0`); `None` when it does
/// not even start like TIFF (byte order `II` or `MM`, then 42) or IFD0 is out of the block.
pub(crate) fn read(tiff: &[u8]) -> Option<RawExif> {
    let order = match tiff.get(..2)? {
        b"II" => Order::Little,
        b"MM" => Order::Big,
        _ => return None,
    };
    let block = Block { data: tiff, order };
    if block.u16_at(2)? != 42 {
        return None;
    }
    let ifd0 = usize::try_from(block.u32_at(4)?).ok()?;
    let mut raw = RawExif::default();
    let mut pointers = Vec::new();
    for entry in block.entries(ifd0)? {
        raw.tags.push((Ifd::Primary, entry.tag));
        match entry.tag {
            ORIENTATION => raw.orientation = block.small_number(&entry).and_then(orientation),
            EXIF_POINTER => pointers.push((Ifd::Exif, block.pointer(&entry))),
            GPS_POINTER => pointers.push((Ifd::Gps, block.pointer(&entry))),
            _ => {}
        }
    }
    for (ifd, offset) in pointers {
        // Pointing back at IFD0 (a loop) reads nothing new: taken as unreadable.
        match offset
            .filter(|offset| *offset != ifd0)
            .and_then(|offset| block.entries(offset))
        {
            Some(entries) => raw.tags.extend(entries.map(|entry| (ifd, entry.tag))),
            None => raw.unreadable.push(ifd),
        }
    }
    Some(raw)
}

fn orientation(value: u32) -> Option<u16> {
    u16::try_from(value)
        .ok()
        .filter(|value| (1..=8).contains(value))
}

#[derive(Debug, Clone, Copy)]
enum Order {
    Little,
    Big,
}

struct Block<'a> {
    data: &'a [u8],
    order: Order,
}

struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    /// The 4-byte value-or-offset field.
    value: [u8; 4],
}

impl<'a> Block<'a> {
    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.data.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        self.bytes(at).map(|bytes| self.u16_of(bytes))
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        self.bytes(at).map(|bytes| self.u32_of(bytes))
    }

    fn u16_of(&self, bytes: [u8; 2]) -> u16 {
        match self.order {
            Order::Little => u16::from_le_bytes(bytes),
            Order::Big => u16::from_be_bytes(bytes),
        }
    }

    fn u32_of(&self, bytes: [u8; 4]) -> u32 {
        match self.order {
            Order::Little => u32::from_le_bytes(bytes),
            Order::Big => u32::from_be_bytes(bytes),
        }
    }

    /// The entries of the IFD at `offset`, as many as the block holds (a cut block ends them
    /// early); `None` when not even the entry count is in the block.
    fn entries(&self, offset: usize) -> Option<impl Iterator<Item = Entry>> {
        let count = usize::from(self.u16_at(offset)?);
        let first = offset.checked_add(2)?;
        Some((0..count).map_while(move |index| {
            let at = first.checked_add(index.checked_mul(ENTRY_LEN)?)?;
            let entry: [u8; ENTRY_LEN] = self.bytes(at)?;
            Some(Entry {
                tag: self.u16_of([entry[0], entry[1]]),
                kind: self.u16_of([entry[2], entry[3]]),
                count: self.u32_of([entry[4], entry[5], entry[6], entry[7]]),
                value: [entry[8], entry[9], entry[10], entry[11]],
            })
        }))
    }

    /// The first value of an unsigned integer entry stored in the entry itself.
    fn small_number(&self, entry: &Entry) -> Option<u32> {
        match (entry.kind, entry.count) {
            (_, 0) => None,
            (BYTE, 1..=4) => Some(u32::from(entry.value[0])),
            (SHORT, 1..=2) => Some(u32::from(self.u16_of([entry.value[0], entry.value[1]]))),
            (LONG, 1) => Some(self.u32_of(entry.value)),
            _ => None,
        }
    }

    /// A sub-IFD pointer's offset.
    fn pointer(&self, entry: &Entry) -> Option<usize> {
        match (entry.kind, entry.count) {
            (LONG | IFD, 1) => usize::try_from(self.u32_of(entry.value)).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TIFF block in either byte order: IFD0 holding `entries` (tag, type, count, value),
    /// then `tail`.
    fn block(little: bool, entries: &[(u16, u16, u32, u32)], tail: &[u8]) -> Vec<u8> {
        let u16b = |value: u16| {
            if little {
                value.to_le_bytes()
            } else {
                value.to_be_bytes()
            }
        };
        let u32b = |value: u32| {
            if little {
                value.to_le_bytes()
            } else {
                value.to_be_bytes()
            }
        };
        let mut out = Vec::new();
        out.extend_from_slice(if little { b"II" } else { b"MM" });
        out.extend_from_slice(&u16b(42));
        out.extend_from_slice(&u32b(8));
        out.extend_from_slice(&u16b(entries.len() as u16));
        for &(tag, kind, count, value) in entries {
            out.extend_from_slice(&u16b(tag));
            out.extend_from_slice(&u16b(kind));
            out.extend_from_slice(&u32b(count));
            if kind == SHORT && count == 1 {
                out.extend_from_slice(&u16b(value as u16));
                out.extend_from_slice(&[0, 0]);
            } else {
                out.extend_from_slice(&u32b(value));
            }
        }
        out.extend_from_slice(&u32b(0));
        out.extend_from_slice(tail);
        out
    }

    /// IFD0: make (text out of line), orientation, a GPS pointer to `gps_at`; a GPS IFD of one
    /// entry at the end.
    fn camera_block(little: bool, gps_at: Option<u32>) -> Vec<u8> {
        // Header 8 + count 2 + 3 entries 36 + next 4 = 50: the make's text, then the GPS IFD.
        let gps_ifd = gps_at.unwrap_or(50 + 8);
        let mut gps = block(little, &[(1, 2, 2, 0x4E00_0000)], &[]);
        gps.drain(..8); // only the IFD
        let mut tail = b"Canon\0\0\0".to_vec();
        tail.extend_from_slice(&gps);
        block(
            little,
            &[
                (0x010F, 2, 6, 50),
                (ORIENTATION, SHORT, 1, 6),
                (GPS_POINTER, LONG, 1, gps_ifd),
            ],
            &tail,
        )
    }

    #[test]
    fn reads_ifd0_and_the_gps_ifd_in_both_byte_orders() {
        for little in [true, false] {
            let raw = read(&camera_block(little, None)).unwrap();
            assert_eq!(raw.orientation, Some(6), "little-endian: {little}");
            assert_eq!(
                raw.tags,
                vec![
                    (Ifd::Primary, 0x010F),
                    (Ifd::Primary, ORIENTATION),
                    (Ifd::Primary, GPS_POINTER),
                    (Ifd::Gps, 1)
                ]
            );
            assert!(raw.unreadable.is_empty());
        }
    }

    #[test]
    fn a_gps_pointer_out_of_the_block_is_unreadable_and_the_rest_is_read() {
        for little in [true, false] {
            for offset in [0x7FFF_FFF0, u32::MAX, 8] {
                let raw = read(&camera_block(little, Some(offset))).unwrap();
                assert_eq!(raw.orientation, Some(6));
                assert_eq!(raw.unreadable, vec![Ifd::Gps], "offset {offset}");
            }
        }
    }

    #[test]
    fn a_block_cut_anywhere_keeps_what_came_before_the_cut() {
        for little in [true, false] {
            let whole = camera_block(little, None);
            // The orientation entry ends at 8 + 2 + 2 × 12 = 34.
            for cut in 0..whole.len() {
                let raw = read(&whole[..cut]);
                if cut < 10 {
                    assert_eq!(raw, None, "cut at {cut}");
                    continue;
                }
                let raw = raw.unwrap();
                let expected = (cut >= 34).then_some(6);
                assert_eq!(raw.orientation, expected, "cut at {cut}");
            }
        }
    }

    #[test]
    fn odd_types_and_values_are_not_taken_for_an_orientation() {
        for (kind, count, value) in [
            (SHORT, 0, 6),
            (SHORT, 3, 6),
            (2, 1, 6),
            (SHORT, 1, 9),
            (SHORT, 1, 0),
            (LONG, 1, 0x0001_0006),
        ] {
            let raw = read(&block(false, &[(ORIENTATION, kind, count, value)], &[])).unwrap();
            assert_eq!(raw.orientation, None, "{kind} {count} {value}");
        }
        for (kind, count, value, expected) in [(LONG, 1, 8, 8), (BYTE, 1, 0x0300_0000, 3)] {
            let raw = read(&block(false, &[(ORIENTATION, kind, count, value)], &[])).unwrap();
            assert_eq!(raw.orientation, Some(expected));
        }
        assert_eq!(read(b"MM\0\x2b\0\0\0\x08\0\0"), None, "BigTIFF or not TIFF");
        assert_eq!(read(b"XX\0\x2a\0\0\0\x08\0\0"), None);
        assert_eq!(read(b"MM\0\x2a\xff\xff\xff\xff"), None);
    }

    #[test]
    fn a_huge_entry_count_ends_where_the_data_ends() {
        let mut data = b"II\x2a\0\x08\0\0\0\xff\xff".to_vec();
        data.extend(std::iter::repeat_n(0xAB, 100));
        let raw = read(&data).unwrap();
        assert_eq!(raw.tags.len(), 100 / ENTRY_LEN);
        // A sub-IFD pointing back at IFD0 is not read again.
        let looped = block(true, &[(EXIF_POINTER, LONG, 1, 8)], &[]);
        let raw = read(&looped).unwrap();
        assert_eq!(raw.tags, vec![(Ifd::Primary, EXIF_POINTER)]);
        assert_eq!(raw.unreadable, vec![Ifd::Exif]);
    }

    /// Quick fuzzing without a fuzzer: random blocks, and valid blocks with bytes changed, never
    /// panic, and any orientation found is a valid one.
    #[test]
    fn random_and_mangled_bytes_never_panic() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seeds = [camera_block(true, None), camera_block(false, None)];
        for round in 0..20_000 {
            let mut data = if round % 2 == 0 {
                let len = (next() % 80) as usize;
                let mut data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                // Mostly a valid header, so the IFD walk itself is exercised.
                if round % 4 == 0 && data.len() >= 4 {
                    data[..4].copy_from_slice(b"MM\0\x2a");
                }
                data
            } else {
                seeds[round % 4 / 2].clone()
            };
            for _ in 0..1 + next() % 4 {
                if data.is_empty() {
                    break;
                }
                let at = (next() as usize) % data.len();
                data[at] = next() as u8;
            }
            if next() % 3 == 0 {
                data.truncate((next() as usize) % (data.len() + 1));
            }
            if let Some(raw) = read(&data) {
                assert!(raw.orientation.is_none_or(|value| (1..=8).contains(&value)));
                assert!(raw.tags.len() <= 3 * usize::from(u16::MAX));
            }
        }
    }
}
