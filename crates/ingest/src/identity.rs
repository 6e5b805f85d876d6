//! How a scanned file is known again: the BLAKE3 hash of its bytes.
//!
//! Every file is hashed before any of its pages is read, so that a file ingested before is
//! skipped at once. A fax folder or a scanner's batch is hundreds of megabytes; SHA-256 runs at
//! about 100–200 MB/s on a processor without SHA instructions, which made hashing a quarter of a
//! 300-dpi scan's ingest, while BLAKE3 (vector instructions on every x86-64) runs at gigabytes a
//! second.
//!
//! Databases written before this change hold SHA-256 hashes (bare hex; BLAKE3 ones are
//! written `blake3:…`). Such a file is still known: when a file's BLAKE3 hash is not found and
//! an older record has its exact size, its SHA-256 is computed and looked up too. Files of
//! other sizes never pay for it.

use std::path::Path;

use capsurvey_store::entity::imported_files;
use capsurvey_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::FILE_KIND;

/// How a scanned file's hash is written: the algorithm, then the hex digest.
const PREFIX: &str = "blake3:";

/// A scanned file's identity: `blake3:` and the hex hash of its bytes, and its size. The file
/// is read in pieces, so a large one is never held in memory.
pub fn file_identity(path: &Path) -> std::io::Result<(String, u64)> {
    let mut hasher = blake3::Hasher::new();
    let size = capsurvey_store::read_in_pieces(path, |piece| {
        hasher.update(piece);
    })?;
    Ok((format!("{PREFIX}{}", hasher.finalize().to_hex()), size))
}

/// The record of a scanned file ingested before, by its identity ([`file_identity`]) or, for
/// a record written before BLAKE3, by its SHA-256.
pub async fn ingested_before<C: ConnectionTrait>(
    conn: &C,
    path: &Path,
    identity: &str,
    size: u64,
) -> capsurvey_store::Result<Option<imported_files::Model>> {
    if let Some(found) = capsurvey_store::imported_file(conn, FILE_KIND, identity).await? {
        return Ok(Some(found));
    }
    let older_of_same_size = imported_files::Entity::find()
        .filter(imported_files::Column::Kind.eq(FILE_KIND))
        .filter(imported_files::Column::Size.eq(size as i64))
        .filter(imported_files::Column::ContentHash.not_like(format!("{PREFIX}%")))
        .all(conn)
        .await?;
    if older_of_same_size.is_empty() {
        return Ok(None);
    }
    // The file was readable a moment ago; if it is not now, it is not known either.
    let Ok((sha256, _)) = capsurvey_store::file_hash(path) else {
        return Ok(None);
    };
    Ok(older_of_same_size
        .into_iter()
        .find(|r| r.content_hash == sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_is_the_blake3_of_the_bytes_and_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fax.tif");
        // More than one read buffer, so that the pieces are joined right.
        let bytes: Vec<u8> = (0..(3 << 20) + 17).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let (identity, size) = file_identity(&path).unwrap();
        assert_eq!(size, bytes.len() as u64);
        assert_eq!(
            identity,
            format!("blake3:{}", blake3::hash(&bytes).to_hex())
        );
    }
}
