//! A commit's objects reach the object database as one pack. libgit2 writes each object
//! as a file of its own (a temporary file, a link, an unlink), and one record commit is
//! about ten objects: the changed files and every directory above them. On a busy disk
//! it is creating those files, not anything relctl computes, that a rollback waits for
//! before its deploy call (BENCHMARKS.md, "Rollback at 100,000 releases"). So a store
//! writes its objects into memory, and just before a ref is moved to point at them
//! (`flush`) into one new pack: two files. When the store is done with a repository it
//! wrote to, it merges the small packs there (`merge`), so a lookup never walks more
//! than a few of them.

use std::cell::Cell;
use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use git2::{Binding as _, Mempack, ObjectType, Odb, Oid, Repository, Tree};

/// Above the loose (1) and pack (2) backends: every object written goes to memory.
const IN_MEMORY_FIRST: i32 = 1000;

/// Packs larger than this are left as they are: merging rewrites every object of the
/// packs merged, and a clone's first pack, or one `git gc` made, is big and needs none.
const MERGE_BELOW: u64 = 16 << 20;

/// Small packs are merged once this many of them break the geometric progression
/// (`to_merge`): merging is not worth a command's time for two or three.
const MERGE_AT: usize = 4;

/// The objects a store has written and not yet flushed.
pub(super) struct Pending {
    mempack: Mempack<'static>,
    /// The repository's objects on disk, without the memory in front of them.
    disk: Odb<'static>,
    /// Whether this store wrote a pack: only then does it merge.
    wrote: Cell<bool>,
    /// `objects/` of the repository, where its packs are.
    objects: PathBuf,
}

impl Pending {
    /// Puts a memory backend in front of `repo`'s object database (`objects`).
    pub(super) fn attach(repo: &Repository, objects: &Path) -> Result<Pending> {
        let odb = repo.odb().context("opening the object database")?;
        let mempack = odb
            .add_new_mempack_backend(IN_MEMORY_FIRST)
            .context("adding an in-memory object backend")?;
        // SAFETY: `Mempack` is a pointer to a backend that the repository's object
        // database owns and frees with it (it has no `Drop` of its own); the borrow only
        // stands for that. The repository keeps its object database until it is freed,
        // and `Pending` lives in the `Store` that owns the repository and is only used
        // through it, so the backend outlives every use.
        let mempack = unsafe { std::mem::transmute::<Mempack<'_>, Mempack<'static>>(mempack) };
        let disk = Odb::new().context("opening the object database")?;
        // The path as bytes: the git2 crate takes only UTF-8, and a directory's name
        // need not be.
        let path =
            std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(objects.as_os_str()))
                .context("the repository's path holds a NUL byte")?;
        // SAFETY: a live object database and a NUL-terminated path that libgit2 copies.
        let code = unsafe { git_odb_add_disk_alternate(disk.raw().cast(), path.as_ptr()) };
        if code < 0 {
            return Err(git2::Error::last_error(code)).context("opening the object database");
        }
        Ok(Pending {
            mempack,
            disk,
            wrote: Cell::new(false),
            objects: objects.to_path_buf(),
        })
    }

    /// Writes what memory holds as one pack, before a ref points at `tip`, and clears
    /// memory: libgit2 hands out an object read from memory without the terminating
    /// NUL some of its readers expect (`git_commit_extract_signature`), so an object is
    /// read from memory only until its commit is flushed.
    pub(super) fn flush(&self, repo: &Repository, tip: Oid) -> Result<()> {
        let mut everything = self.held(repo)?;
        let held = everything.object_count();
        if held == 0 {
            return Ok(());
        }
        let odb = repo.odb().context("opening the object database")?;
        let new = self.new_objects(repo, tip)?;
        if new.len() == held {
            let (pack, index) = pack_of(&odb, &new)?;
            put(&self.objects, &pack, index)?;
        } else {
            // Memory also holds objects no ref will point at (a commit that lost a
            // race): libgit2 packs them all, slower, with deltas, and indexes them.
            let mut pack = git2::Buf::new();
            everything
                .write_buf(&mut pack)
                .context("packing the objects written")?;
            store(&odb, &pack)?;
        }
        // The next flush must see this pack as on disk.
        self.disk.refresh().context("reading the object database")?;
        self.wrote.set(true);
        self.mempack
            .reset()
            .context("clearing the objects written")?;
        Ok(())
    }

    pub(super) fn wrote(&self) -> bool {
        self.wrote.get()
    }

    /// A pack builder holding every object in memory.
    fn held<'r>(&self, repo: &'r Repository) -> Result<git2::PackBuilder<'r>> {
        let builder = repo.packbuilder().context("packing the objects written")?;
        // SAFETY: both are live libgit2 objects (the backend: see `attach`), and the
        // call only adds the backend's objects to the builder.
        let code =
            unsafe { git_mempack_write_thin_pack(self.mempack.raw().cast(), builder.raw().cast()) };
        if code < 0 {
            return Err(git2::Error::last_error(code)).context("packing the objects written");
        }
        Ok(builder)
    }

    fn on_disk(&self, oid: Oid) -> bool {
        self.disk.exists_ext(oid, git2::OdbLookupFlags::NO_REFRESH)
    }

    /// The objects of `tip` and its ancestors that are not on disk: what changed from
    /// each commit's first parent, down the paths that changed. An object on disk has
    /// everything below it on disk too, so the walk stops there.
    fn new_objects(&self, repo: &Repository, tip: Oid) -> Result<Vec<Oid>> {
        let (mut new, mut seen) = (Vec::new(), HashSet::new());
        let mut commits = vec![tip];
        while let Some(oid) = commits.pop() {
            if !seen.insert(oid) || self.on_disk(oid) {
                continue;
            }
            let commit = repo.find_commit(oid)?;
            new.push(oid);
            let before = match commit.parent_ids().next() {
                Some(parent) => Some(repo.find_commit(parent)?.tree()?),
                None => None,
            };
            self.new_in_tree(repo, &commit.tree()?, before.as_ref(), &mut seen, &mut new)?;
            commits.extend(commit.parent_ids());
        }
        Ok(new)
    }

    fn new_in_tree(
        &self,
        repo: &Repository,
        tree: &Tree<'_>,
        before: Option<&Tree<'_>>,
        seen: &mut HashSet<Oid>,
        new: &mut Vec<Oid>,
    ) -> Result<()> {
        if before.is_some_and(|b| b.id() == tree.id())
            || !seen.insert(tree.id())
            || self.on_disk(tree.id())
        {
            return Ok(());
        }
        new.push(tree.id());
        for entry in tree.iter() {
            let was = before.and_then(|b| b.get_name_bytes(entry.name_bytes()));
            if was.as_ref().is_some_and(|w| w.id() == entry.id()) {
                continue;
            }
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let below = was
                        .filter(|w| w.kind() == Some(ObjectType::Tree))
                        .map(|w| repo.find_tree(w.id()))
                        .transpose()?;
                    let sub = repo.find_tree(entry.id())?;
                    self.new_in_tree(repo, &sub, below.as_ref(), seen, new)?;
                }
                Some(ObjectType::Blob) if seen.insert(entry.id()) && !self.on_disk(entry.id()) => {
                    new.push(entry.id());
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A pack of `objects` as they are, each compressed as fast as zlib can, as git writes
/// a loose object: no delta search, which costs more than the files it saves. A tree is
/// mostly object ids, which do not compress: it is stored as it is, which costs nothing
/// to compress or to read back. With the pack, what its index lists (`put`).
pub(super) fn pack_of(odb: &Odb<'_>, objects: &[Oid]) -> Result<(Vec<u8>, Vec<Indexed>)> {
    let mut pack = header(objects.len())?;
    let mut index = Vec::with_capacity(objects.len());
    for &oid in objects {
        let object = odb
            .read(oid)
            .with_context(|| format!("reading object {oid}"))?;
        let kind: u8 = match object.kind() {
            ObjectType::Commit => 1,
            ObjectType::Tree => 2,
            ObjectType::Blob => 3,
            ObjectType::Tag => 4,
            other => anyhow::bail!("object {oid} is a {other}, which a pack does not hold"),
        };
        let offset = pack.len();
        // The type and the size, seven bits at a time after the first four.
        let mut size = object.data().len();
        let mut byte = (kind << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            pack.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        pack.push(byte);
        let level = match kind {
            2 => flate2::Compression::none(),
            _ => flate2::Compression::fast(),
        };
        let mut zlib = flate2::write::ZlibEncoder::new(&mut pack, level);
        zlib.write_all(object.data())?;
        zlib.finish()?;
        let mut crc = flate2::Crc::new();
        crc.update(&pack[offset..]);
        index.push(Indexed {
            oid,
            offset: u32::try_from(offset).context("a pack of more than 2 GiB")?,
            crc: crc.sum(),
        });
    }
    Ok((sealed(pack), index))
}

/// One object of a pack, as its index lists it.
pub(super) struct Indexed {
    oid: Oid,
    /// Where its entry begins in the pack (below 2 GiB: no large offsets).
    offset: u32,
    /// The CRC-32 of its entry as packed.
    crc: u32,
}

/// Writes `pack` and its index (version 2, from `index`) into `objects/pack`, as git
/// names them: the pack first, then the index, each under a temporary name and renamed,
/// so a reader sees a pack only once both are whole.
pub(super) fn put(objects: &Path, pack: &[u8], mut index: Vec<Indexed>) -> Result<()> {
    let checksum = pack
        .get(pack.len().saturating_sub(20)..)
        .unwrap_or_default();
    let name: String = checksum.iter().map(|b| format!("{b:02x}")).collect();
    let dir = objects.join("pack");
    let final_idx = dir.join(format!("pack-{name}.idx"));
    if final_idx.exists() {
        return Ok(());
    }
    index.sort_by_key(|entry| entry.oid);
    let mut idx = Vec::with_capacity(1072 + index.len() * 28 + 40);
    idx.extend_from_slice(b"\xfftOc");
    idx.extend_from_slice(&2u32.to_be_bytes());
    let mut fanout = [0u32; 256];
    for entry in &index {
        fanout[usize::from(entry.oid.as_bytes()[0])] += 1;
    }
    let mut total = 0u32;
    for count in fanout {
        total += count;
        idx.extend_from_slice(&total.to_be_bytes());
    }
    for entry in &index {
        idx.extend_from_slice(entry.oid.as_bytes());
    }
    for entry in &index {
        idx.extend_from_slice(&entry.crc.to_be_bytes());
    }
    for entry in &index {
        idx.extend_from_slice(&entry.offset.to_be_bytes());
    }
    idx.extend_from_slice(checksum);
    let idx = sealed(idx);
    write_new(&dir, &format!("pack-{name}.pack"), pack)?;
    write_new(&dir, &format!("pack-{name}.idx"), &idx)
}

/// Writes `bytes` as `dir/name`, read-only as git keeps packs, through a temporary file.
fn write_new(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    let mut temp = tempfile::Builder::new()
        .prefix("tmp_relctl_")
        .tempfile_in(dir)
        .with_context(|| format!("writing a pack in {}", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|()| {
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o444))
        })
        .with_context(|| format!("writing {}", path.display()))?;
    temp.persist(&path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// A version 2 pack's header, for `count` objects.
fn header(count: usize) -> Result<Vec<u8>> {
    let mut pack = Vec::new();
    pack.extend_from_slice(b"PACK");
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&u32::try_from(count)?.to_be_bytes());
    Ok(pack)
}

/// `pack` with its checksum, the SHA-1 of everything before it, at its end.
fn sealed(mut pack: Vec<u8>) -> Vec<u8> {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &pack);
    pack.extend_from_slice(digest.as_ref());
    pack
}

/// Writes `pack` into `odb`: libgit2 indexes it, then moves both files into place.
pub(super) fn store(odb: &Odb<'_>, pack: &[u8]) -> Result<()> {
    let mut writer = odb.packwriter().context("writing a pack")?;
    writer.write_all(pack).context("writing a pack")?;
    writer.commit().context("writing a pack")?;
    Ok(())
}

unsafe extern "C" {
    /// libgit2's (include/git2/odb.h): adds the objects directory at `path` (bytes, not
    /// UTF-8 only as the git2 crate's binding takes it) as an alternate.
    fn git_odb_add_disk_alternate(
        odb: *mut std::ffi::c_void,
        path: *const std::ffi::c_char,
    ) -> std::ffi::c_int;

    /// libgit2's (include/git2/sys/mempack.h, not bound by the git2 crate): adds every
    /// object of the in-memory backend, and only those, to the pack builder.
    fn git_mempack_write_thin_pack(
        backend: *mut std::ffi::c_void,
        builder: *mut std::ffi::c_void,
    ) -> std::ffi::c_int;
}

/// One pack in `objects/pack`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pack {
    /// The path without its extension: `…/pack-<hash>`.
    stem: PathBuf,
    size: u64,
}

/// Merges the small packs of `repo` into one when enough of them have piled up. Their
/// objects are copied as they are, deltas and all, one pack after the other: nothing is
/// compressed again, so it costs about what reading them does. Packs that share objects
/// (two writers at once can each write the same one, and libgit2 refuses a pack that
/// holds an object twice) are merged by libgit2's pack builder instead, which is slower.
/// Safe beside readers and other writers: a pack is removed only once every object in
/// it is in the new one, and libgit2 and git both look for the packs again when one they
/// knew of is gone.
pub(super) fn merge(repo: &Repository) -> Result<()> {
    let dir = repo.commondir().join("objects").join("pack");
    let packs = to_merge(list(&dir)?);
    if packs.len() < MERGE_AT {
        return Ok(());
    }
    // One merge at a time: two would each copy the same packs, and leave both copies.
    let Some(_merging) = Merging::take(&dir)? else {
        return Ok(());
    };
    let packs = to_merge(list(&dir)?);
    if packs.len() < MERGE_AT {
        return Ok(());
    }
    let (mut seen, mut shared, mut taken) = (HashSet::new(), false, Vec::new());
    for pack in packs {
        let ids = index_ids(&pack.stem.with_extension("idx"))?;
        let count = ids.len();
        for id in ids {
            shared |= !seen.insert(id);
        }
        taken.push((pack, count));
    }
    let merged = if shared {
        let mut builder = repo.packbuilder().context("starting a pack")?;
        for &id in &seen {
            builder
                .insert_object(id, None)
                .with_context(|| format!("packing object {id}"))?;
        }
        let mut pack = git2::Buf::new();
        builder.write_buf(&mut pack).context("writing a pack")?;
        pack.to_vec()
    } else {
        concatenated(&taken)?
    };
    store(&repo.odb().context("opening the object database")?, &merged)?;
    for (pack, _) in &taken {
        // The index first: a reader finds packs by their indexes.
        for ext in ["idx", "pack", "rev"] {
            let path = pack.stem.with_extension(ext);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("removing {}", path.display()));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The mark of a merge under way in a pack directory, removed when dropped.
struct Merging(PathBuf);

impl Merging {
    /// The mark, or `None` when another process is merging. A mark older than
    /// `STALE_MERGE` was left by a process killed while merging, and is taken over.
    fn take(dir: &Path) -> Result<Option<Merging>> {
        const STALE_MERGE: std::time::Duration = std::time::Duration::from_secs(600);
        let path = dir.join("relctl-merge.lock");
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => return Ok(Some(Merging(path))),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > STALE_MERGE);
                    if !stale {
                        return Ok(None);
                    }
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        Ok(None)
    }
}

impl Drop for Merging {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One pack of the entries of `packs` (each with its number of objects), in order.
fn concatenated(packs: &[(Pack, usize)]) -> Result<Vec<u8>> {
    let total: usize = packs.iter().map(|(_, n)| n).sum();
    let mut merged = header(total)?;
    for (pack, count) in packs {
        let path = pack.stem.with_extension("pack");
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let entries = entries(&bytes, *count)
            .ok_or_else(|| anyhow::anyhow!("{} is not a pack relctl merges", path.display()))?;
        merged.extend_from_slice(entries);
    }
    Ok(sealed(merged))
}

/// A pack's object entries, between its header and its checksum, when the header says
/// it is a version 2 or 3 pack of `count` objects. An entry's delta base is named by
/// its id or by its distance back from the entry, so the entries stay valid wherever
/// they are copied together.
fn entries(pack: &[u8], count: usize) -> Option<&[u8]> {
    let version = pack.get(4..8)?;
    let declared = u32::from_be_bytes(pack.get(8..12)?.try_into().ok()?);
    let ok = pack.starts_with(b"PACK")
        && (version == [0, 0, 0, 2] || version == [0, 0, 0, 3])
        && usize::try_from(declared).ok() == Some(count);
    pack.get(12..pack.len().checked_sub(20)?).filter(|_| ok)
}

/// The packs in `dir` that relctl may merge: with an index, without a `.keep` or
/// `.promisor` (git's marks for packs to leave alone), a `.mtimes` (a cruft pack of
/// `git gc`) or a `.bitmap`, and below `MERGE_BELOW`.
fn list(dir: &Path) -> Result<Vec<Pack>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut packs = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let path = entry.path();
        let is_pack = path.extension().is_some_and(|e| e == "pack")
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("pack-"));
        if !is_pack {
            continue;
        }
        let stem = path.with_extension("");
        let kept = ["keep", "promisor", "mtimes", "bitmap"]
            .iter()
            .any(|ext| stem.with_extension(ext).exists());
        if kept || !stem.with_extension("idx").exists() {
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if meta.len() < MERGE_BELOW {
            packs.push(Pack {
                stem,
                size: meta.len(),
            });
        }
    }
    Ok(packs)
}

/// The smallest packs to merge so that, after it, every pack is at least twice the size
/// of all smaller ones together: a few packs of sizes far apart, never many alike.
fn to_merge(mut packs: Vec<Pack>) -> Vec<Pack> {
    packs.sort_by(|a, b| (a.size, &a.stem).cmp(&(b.size, &b.stem)));
    let (mut split, mut below) = (0, 0);
    for (i, pack) in packs.iter().enumerate() {
        if pack.size < 2 * below {
            split = i + 1;
        }
        below += pack.size;
    }
    packs.truncate(split);
    packs
}

/// The object ids a pack index (version 2) lists.
fn index_ids(path: &Path) -> Result<Vec<Oid>> {
    const HEADER: usize = 8 + 256 * 4;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let unreadable = || anyhow::anyhow!("{} is not a pack index relctl reads", path.display());
    if bytes.get(..8) != Some(&[0xff, b't', b'O', b'c', 0, 0, 0, 2][..]) {
        return Err(unreadable());
    }
    let count = bytes
        .get(HEADER - 4..HEADER)
        .and_then(|n| <[u8; 4]>::try_from(n).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(unreadable)? as usize;
    let ids = bytes
        .get(HEADER..HEADER + count * 20)
        .ok_or_else(unreadable)?;
    ids.chunks_exact(20)
        .map(|id| Oid::from_bytes(id).map_err(|_| unreadable()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::Buf;

    fn pack(name: &str, size: u64) -> Pack {
        Pack {
            stem: PathBuf::from(name),
            size,
        }
    }

    /// A pack of `blobs`, written as a fetch would write it.
    fn write_pack(repo: &Repository, blobs: &[&str]) {
        let scratch = Repository::from_odb(Odb::new().unwrap()).unwrap();
        let in_memory = scratch.odb().unwrap();
        let _mempack = in_memory.add_new_mempack_backend(1).unwrap();
        let mut builder = scratch.packbuilder().unwrap();
        for blob in blobs {
            let oid = scratch.blob(blob.as_bytes()).unwrap();
            builder.insert_object(oid, None).unwrap();
        }
        let mut pack = Buf::new();
        builder.write_buf(&mut pack).unwrap();
        let odb = repo.odb().unwrap();
        let mut writer = odb.packwriter().unwrap();
        writer.write_all(&pack).unwrap();
        writer.commit().unwrap();
    }

    #[test]
    fn small_packs_are_merged_also_when_two_hold_the_same_object() {
        let tmp = tempfile::TempDir::new().unwrap();
        let repo = Repository::init_bare(tmp.path()).unwrap();
        let objects = tmp.path().join("objects");
        write_pack(&repo, &["one", "two"]);
        write_pack(&repo, &["three", "four"]);
        write_pack(&repo, &["five", "six!"]);
        write_pack(&repo, &["seven", "eight"]);
        // Shares "two" with the first.
        write_pack(&repo, &["two", "nine"]);
        assert_eq!(list(&objects.join("pack")).unwrap().len(), 5);
        merge(&repo).unwrap();
        assert_eq!(list(&objects.join("pack")).unwrap().len(), 1);
        let fresh = Repository::open_bare(tmp.path()).unwrap();
        let odb = fresh.odb().unwrap();
        for blob in [
            "one", "two", "three", "four", "five", "six!", "seven", "eight", "nine",
        ] {
            let oid = Oid::hash_object(git2::ObjectType::Blob, blob.as_bytes()).unwrap();
            assert_eq!(odb.read(oid).unwrap().data(), blob.as_bytes(), "{blob}");
        }
    }

    #[test]
    fn one_merge_at_a_time_and_a_mark_left_by_a_killed_merge_is_taken_over() {
        let tmp = tempfile::TempDir::new().unwrap();
        let repo = Repository::init_bare(tmp.path()).unwrap();
        let dir = tmp.path().join("objects/pack");
        for blobs in [["a1", "a2"], ["b1", "b2"], ["c1", "c2"], ["d1", "d2"]] {
            write_pack(&repo, &blobs);
        }
        let mark = std::fs::File::create(dir.join("relctl-merge.lock")).unwrap();
        merge(&repo).unwrap();
        assert_eq!(list(&dir).unwrap().len(), 4, "another merge is under way");
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        mark.set_modified(long_ago).unwrap();
        merge(&repo).unwrap();
        assert_eq!(list(&dir).unwrap().len(), 1);
        assert!(!dir.join("relctl-merge.lock").exists());
    }

    #[test]
    fn packs_far_apart_in_size_are_left_alone() {
        let packs = vec![pack("a", 100), pack("b", 300), pack("c", 1000)];
        assert!(to_merge(packs).is_empty());
    }

    #[test]
    fn small_packs_alike_are_merged_with_all_smaller_ones() {
        let packs = vec![
            pack("big", 10_000),
            pack("a", 10),
            pack("b", 12),
            pack("c", 11),
            pack("d", 100),
        ];
        let merged: Vec<String> = to_merge(packs)
            .iter()
            .map(|p| p.stem.display().to_string())
            .collect();
        assert_eq!(merged, ["a", "c", "b"]);
    }
}
