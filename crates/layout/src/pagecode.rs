//! The page code: which survey version, mailing and page a sheet is, in 64 printed squares.
//!
//! Why not QR: at fax standard resolution (204×98 dpi) QR needs large modules and a slow decoder
//! (22–46 ms a page measured here), while the registration marks already tell recognition where the
//! code is. So the code is a fixed grid of [`COLUMNS`]×[`ROWS`] square modules (dark = 1) read by
//! sampling module centres after geometric correction.
//!
//! Bits, most significant first, row by row:
//! `format:4 | survey_version_id:12 | mailing_id:24 | page:8 | crc16:16`, then XOR-ed with
//! [`WHITENING`] so that a blank or black area never reads as a valid code. The CRC
//! (CRC-16/CCITT-FALSE over the six data bytes) rejects misreads; the code is printed twice per
//! page, and a page reads if either copy passes. An upside-down page is found by also trying the
//! grid rotated by 180°, which the fixed format nibble and CRC make unambiguous.

/// Modules per row.
pub const COLUMNS: usize = 16;
/// Rows of modules.
pub const ROWS: usize = 4;
/// Total bits.
pub const BITS: usize = COLUMNS * ROWS;
/// The current code format.
pub const FORMAT: u8 = 1;
/// Fixed mask applied to all 64 bits (a blank page is not all zeros after unmasking).
pub const WHITENING: u64 = 0x9E37_79B9_7F4A_7C15;

/// The identity of one printed page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageCode {
    /// The stored survey version's id (at most 4095).
    pub survey_version_id: u32,
    /// The mailing's id; 0 for a blank form with no facility.
    pub mailing_id: u32,
    /// 1-based page number (at most 255).
    pub page: u32,
}

/// Why a code could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageCodeError {
    /// A field does not fit its bits.
    #[error("{field} {value} does not fit the page code (at most {max})")]
    TooLarge {
        /// Which field.
        field: &'static str,
        /// Its value.
        value: u32,
        /// Its maximum.
        max: u32,
    },
    /// The check bits do not match: a misread, damage, or not a capsurvey page.
    #[error("page code check failed")]
    Check,
    /// A code of a format this build does not know.
    #[error("page code format {0} is not supported by this capsurvey")]
    Format(u8),
}

fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

impl PageCode {
    /// The 64 bits to print.
    pub fn encode(&self) -> Result<u64, PageCodeError> {
        let check = |field, value: u32, max: u32| {
            if value > max {
                Err(PageCodeError::TooLarge { field, value, max })
            } else {
                Ok(())
            }
        };
        check("survey version id", self.survey_version_id, 0xFFF)?;
        check("mailing id", self.mailing_id, 0xFF_FFFF)?;
        check("page", self.page, 0xFF)?;
        let data: u64 = ((FORMAT as u64) << 44)
            | ((self.survey_version_id as u64) << 32)
            | ((self.mailing_id as u64) << 8)
            | self.page as u64;
        let bytes = &data.to_be_bytes()[2..];
        let word = (data << 16) | crc16(bytes) as u64;
        Ok(word ^ WHITENING)
    }

    /// The modules to print, row by row: `true` is dark.
    pub fn modules(&self) -> Result<[bool; BITS], PageCodeError> {
        let word = self.encode()?;
        Ok(std::array::from_fn(|i| word >> (BITS - 1 - i) & 1 == 1))
    }

    /// Reads 64 bits (as from [`PageCode::encode`]).
    pub fn decode(word: u64) -> Result<PageCode, PageCodeError> {
        let word = word ^ WHITENING;
        let data = word >> 16;
        let bytes = &data.to_be_bytes()[2..];
        if crc16(bytes) != (word & 0xFFFF) as u16 {
            return Err(PageCodeError::Check);
        }
        let format = (data >> 44) as u8;
        if format != FORMAT {
            return Err(PageCodeError::Format(format));
        }
        Ok(PageCode {
            survey_version_id: (data >> 32 & 0xFFF) as u32,
            mailing_id: (data >> 8 & 0xFF_FFFF) as u32,
            page: (data & 0xFF) as u32,
        })
    }

    /// Reads modules sampled row by row (`true` = dark); tries the grid turned by 180° as well
    /// and says whether that was the one that read.
    pub fn from_modules(modules: &[bool; BITS]) -> Result<(PageCode, bool), PageCodeError> {
        let word = |it: &mut dyn Iterator<Item = &bool>| it.fold(0u64, |w, &b| (w << 1) | b as u64);
        let upright = PageCode::decode(word(&mut modules.iter()));
        if let Ok(code) = upright {
            return Ok((code, false));
        }
        match PageCode::decode(word(&mut modules.iter().rev())) {
            Ok(code) => Ok((code, true)),
            Err(_) => upright.map(|c| (c, false)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_upside_down() {
        let code = PageCode {
            survey_version_id: 3,
            mailing_id: 123_456,
            page: 4,
        };
        let modules = code.modules().unwrap();
        assert_eq!(PageCode::from_modules(&modules).unwrap(), (code, false));
        let mut turned = modules;
        turned.reverse();
        assert_eq!(PageCode::from_modules(&turned).unwrap(), (code, true));
    }

    #[test]
    fn every_single_and_double_bit_error_is_caught() {
        let word = PageCode {
            survey_version_id: 4095,
            mailing_id: 0xFF_FFFF,
            page: 255,
        }
        .encode()
        .unwrap();
        for i in 0..64 {
            assert!(PageCode::decode(word ^ (1 << i)).is_err(), "bit {i}");
            for j in 0..i {
                assert!(
                    PageCode::decode(word ^ (1 << i) ^ (1 << j)).is_err(),
                    "bits {i},{j}"
                );
            }
        }
    }

    #[test]
    fn blank_and_black_areas_do_not_read() {
        assert!(PageCode::from_modules(&[false; BITS]).is_err());
        assert!(PageCode::from_modules(&[true; BITS]).is_err());
    }

    #[test]
    fn limits_are_checked() {
        let e = PageCode {
            survey_version_id: 4096,
            mailing_id: 1,
            page: 1,
        }
        .encode()
        .unwrap_err();
        assert!(e.to_string().contains("4095"));
    }
}
