//! A large output file written in 4 MiB blocks by a thread of its own, past the page
//! cache where the file system allows it (`O_DIRECT` on Linux).
//!
//! Why: the row outputs are ~700 MB at 10M rows and are made durable (`fdatasync`)
//! before the commit anyway, so the page cache only adds a copy of every byte into pages
//! allocated for the run. On a virtual machine whose freed memory goes back to the host
//! (the project machine's balloon reports free pages), each of those pages is also
//! faulted in on the host: `copy_folio_from_iter_atomic` was ~10 % of a 10M run's CPU
//! (BENCHMARKS.md). Direct writes go from the blocks, which are reused, to
//! the device.
//!
//! The caller fills a block (the [`Write`] impl); a full block goes to the file's thread,
//! which hashes it (SHA-256 for manifest.json), writes it and hands it back; the caller
//! fills another meanwhile, made anew when none is free (up to `MAX_BLOCKS`). The last,
//! partial block is padded to the device's alignment for the direct write and the file
//! cut back to its length (`set_len`). Where a direct handle cannot be opened (tmpfs
//! before Linux 6.6, other systems) or a direct write is refused, the block is written
//! through the ordinary handle at the same offset, and every later one too: the bytes are
//! the same either way.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::thread::JoinHandle;

/// Size and SHA-256 (lower-case hex) of a written file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub size: u64,
    pub sha256: String,
}

/// Bytes per block handed to the file's thread.
pub const BLOCK: usize = 4 << 20;
/// Address, length and offset alignment of direct writes: 4096 covers the 512- and
/// 4096-byte logical blocks of disks in use.
const ALIGN: usize = 4096;
/// Blocks per file at most. One is made at the start and a second at the first hand-over:
/// one being filled while the other is written, enough while batches are encoded. At the
/// end of each Parquet row group the writer copies the whole group's compressed pages at
/// once; with two blocks it would then wait for every direct write in turn, its core idle.
/// More blocks are made when none is free, up to this many (BENCHMARKS.md).
const MAX_BLOCKS: usize = 12;

/// One block: an allocation with an `ALIGN`-aligned window of `BLOCK` bytes (found with
/// `align_offset`, no unsafe code), `len` of them filled.
struct Block {
    mem: Vec<u8>,
    start: usize,
    len: usize,
}

impl Block {
    fn new() -> Block {
        let mem = vec![0u8; BLOCK + ALIGN];
        // Always below ALIGN for a byte pointer.
        let start = mem.as_ptr().align_offset(ALIGN).min(ALIGN);
        Block { mem, start, len: 0 }
    }

    fn filled(&self) -> &[u8] {
        &self.mem[self.start..self.start + self.len]
    }

    /// The filled bytes and the zeros after them up to the next multiple of `ALIGN`
    /// (all of the block when it is full).
    fn padded(&mut self) -> &[u8] {
        let end = self.len.div_ceil(ALIGN) * ALIGN;
        self.mem[self.start + self.len..self.start + end].fill(0);
        &self.mem[self.start..self.start + end]
    }
}

enum Job {
    /// A full block, or the last (partial or empty) one with `last`.
    Write { block: Block, last: bool },
    /// `fdatasync` what has been written so far (after a Parquet row group).
    Sync,
}

/// What the file's thread owns.
struct Io {
    plain: File,
    /// The `O_DIRECT` handle while direct writes are taken.
    direct: Option<File>,
    hasher: sha2::Sha256,
    size: u64,
}

impl Io {
    fn new(plain: File, direct: Option<File>) -> Io {
        Io {
            plain,
            direct,
            hasher: <sha2::Sha256 as sha2::Digest>::new(),
            size: 0,
        }
    }

    fn write(&mut self, block: &mut Block, last: bool) -> io::Result<()> {
        use sha2::Digest as _;
        self.hasher.update(block.filled());
        if self
            .direct
            .as_mut()
            .is_none_or(|d| d.write_all(block.padded()).is_err())
        {
            // No direct handle, or refused (an alignment this file system wants bigger,
            // say): this block and every later one through the ordinary handle, from
            // this block's offset.
            self.direct = None;
            self.plain.seek(SeekFrom::Start(self.size))?;
            self.plain.write_all(block.filled())?;
        }
        self.size += block.len as u64;
        if last {
            // Cut off the padding of a direct write (or of a refused one).
            self.plain.set_len(self.size)?;
        }
        Ok(())
    }

    fn run(mut self, jobs: Receiver<Job>, back: SyncSender<Block>) -> io::Result<(File, Digest)> {
        use sha2::Digest as _;
        loop {
            // A writer gone without its last block has failed: its file is discarded,
            // not made durable.
            let Ok(job) = jobs.recv() else {
                return Err(io::Error::other("the output file was abandoned"));
            };
            match job {
                Job::Write { mut block, last } => {
                    self.write(&mut block, last)?;
                    if last {
                        break;
                    }
                    block.len = 0;
                    // The writer may be gone (an error on its side); nothing to hand back.
                    let _ = back.send(block);
                }
                Job::Sync => self.plain.sync_data()?,
            }
        }
        self.plain.sync_all()?;
        let digest = Digest {
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        };
        Ok((self.plain, digest))
    }
}

/// An output file being written (see the module's comment). Bytes written reach the file
/// by [`OutFile::finish`], which also makes them durable.
pub struct OutFile {
    current: Block,
    jobs: SyncSender<Job>,
    back: Receiver<Block>,
    /// Blocks made so far (at most `MAX_BLOCKS`).
    blocks: usize,
    /// Taken when the thread has stopped early and its error was reported.
    thread: Option<JoinHandle<io::Result<(File, Digest)>>>,
}

/// Asks the file's thread to `fdatasync` what it has written so far; cloned out of an
/// [`OutFile`] for the code that knows when a part of the file is complete.
#[derive(Clone)]
pub struct Nudge(SyncSender<Job>);

impl Nudge {
    pub fn sync_soon(&self) {
        let _ = self.0.try_send(Job::Sync);
    }
}

impl OutFile {
    /// Writes to `file`, just created at `path` (a second, direct handle is opened by
    /// path where possible).
    pub fn new(file: File, path: &Path) -> io::Result<OutFile> {
        let io = Io::new(file, open_direct(path));
        // Room for every block and a sync request: handing over a block waits on the
        // thread only behind extra sync requests.
        let (jobs, jobs_rx) = sync_channel(MAX_BLOCKS + 1);
        let (back_tx, back) = sync_channel(MAX_BLOCKS);
        let thread = std::thread::Builder::new()
            .name("sverka-out".into())
            .spawn(move || io.run(jobs_rx, back_tx))?;
        Ok(OutFile {
            current: Block::new(),
            jobs,
            back,
            blocks: 1,
            thread: Some(thread),
        })
    }

    pub fn nudge(&self) -> Nudge {
        Nudge(self.jobs.clone())
    }

    /// Hands the full block to the thread and takes an empty one: one it has written, or
    /// a new one while fewer than `MAX_BLOCKS` exist, or else the next it writes.
    fn pass(&mut self) -> io::Result<()> {
        let next = match self.back.try_recv() {
            Ok(block) => Some(block),
            Err(TryRecvError::Empty) if self.blocks < MAX_BLOCKS => {
                self.blocks += 1;
                Some(Block::new())
            }
            Err(TryRecvError::Empty) => self.back.recv().ok(),
            Err(TryRecvError::Disconnected) => None,
        };
        let Some(next) = next else {
            return Err(self.failed());
        };
        let block = std::mem::replace(&mut self.current, next);
        if self.jobs.send(Job::Write { block, last: false }).is_err() {
            return Err(self.failed());
        }
        Ok(())
    }

    /// The thread has stopped early: its error (a full disk, say).
    fn failed(&mut self) -> io::Error {
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => io::Error::other("the output file's writer thread panicked"),
            Some(Ok(Ok(_))) | None => io::Error::other("the output file's writer thread stopped"),
        }
    }

    /// Writes what is left, waits for the thread and makes the file durable
    /// (`sync_all`): the file and the size and SHA-256 of its bytes.
    pub fn finish(self) -> io::Result<(File, Digest)> {
        let OutFile {
            current,
            jobs,
            back,
            thread,
            ..
        } = self;
        let Some(thread) = thread else {
            return Err(io::Error::other("the output file's writer thread stopped"));
        };
        let sent = jobs.send(Job::Write {
            block: current,
            last: true,
        });
        drop(jobs);
        drop(back);
        let result = thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the output file's writer thread panicked")));
        match (result, sent) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(_)) => Err(io::Error::other("the output file's writer thread stopped")),
            (Ok(done), Ok(())) => Ok(done),
        }
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let b = &mut self.current;
        let n = buf.len().min(BLOCK - b.len);
        b.mem[b.start + b.len..b.start + b.len + n].copy_from_slice(&buf[..n]);
        b.len += n;
        if b.len == BLOCK {
            self.pass()?;
        }
        Ok(n)
    }

    /// Nothing to do: blocks go to the file when full, and the rest at `finish`.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A second, direct handle on the file just created at `path`, where the system has one.
#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT | libc::O_NOFOLLOW)
        .open(path)
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> Option<File> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block holding `part`.
    fn block_of(part: &[u8]) -> Block {
        let mut block = Block::new();
        block.mem[block.start..block.start + part.len()].copy_from_slice(part);
        block.len = part.len();
        block
    }

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    fn write_in_pieces(path: &Path, data: &[u8], piece: usize) -> Digest {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .unwrap();
        let mut out = OutFile::new(file, path).unwrap();
        let nudge = out.nudge();
        for (i, p) in data.chunks(piece.max(1)).enumerate() {
            out.write_all(p).unwrap();
            if i % 7 == 0 {
                nudge.sync_soon();
            }
        }
        assert!(out.blocks <= MAX_BLOCKS, "{} blocks made", out.blocks);
        out.finish().unwrap().1
    }

    #[test]
    fn any_length_in_any_pieces_is_written_exactly_and_hashed() {
        use sha2::Digest as _;
        let dir = tempfile::tempdir().unwrap();
        for (i, (len, piece)) in [
            (0, 1),
            (1, 1),
            (ALIGN - 1, 100),
            (ALIGN, ALIGN),
            (BLOCK, 1 << 20),
            (BLOCK + 1, 65_537),
            (3 * BLOCK + ALIGN + 5, 1_000_003),
            (7 * BLOCK - 3, 4 * BLOCK),
            // More blocks at once than the writer may make: it waits for written ones.
            (3 * MAX_BLOCKS * BLOCK + 17, 4 * BLOCK),
        ]
        .into_iter()
        .enumerate()
        {
            let data = bytes(len, i as u8);
            let path = dir.path().join(format!("f{i}"));
            let digest = write_in_pieces(&path, &data, piece);
            assert_eq!(std::fs::read(&path).unwrap(), data, "length {len}");
            assert_eq!(digest.size, len as u64);
            assert_eq!(digest.sha256, hex::encode(sha2::Sha256::digest(&data)));
        }
    }

    /// A full disk is reported with the system's own message, at the latest once every
    /// block has been handed over (the writer does not wait for each block's write).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_error_is_reported_as_it_is() {
        let path = Path::new("/dev/full");
        let Ok(file) = OpenOptions::new().write(true).open(path) else {
            return; // no /dev/full in this sandbox
        };
        let mut out = OutFile::new(file, path).unwrap();
        let data = bytes(BLOCK, 1);
        let mut err = None;
        for _ in 0..MAX_BLOCKS + 2 {
            if let Err(e) = out.write_all(&data) {
                err = Some(e);
                break;
            }
        }
        let err = err.expect("a full disk fails before more than MAX_BLOCKS blocks are out");
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
        // The error was taken with the thread: finish says the thread stopped.
        assert!(out.finish().is_err());
    }

    /// Writes two blocks and a tail through the `Io` that `direct` gives a direct handle
    /// (or none) and checks the file's bytes.
    fn written_whole(seed: u8, direct: impl FnOnce(&Path) -> Option<File>) {
        let dir = tempfile::tempdir().unwrap();
        let data = bytes(2 * BLOCK + 12_345, seed);
        let path = dir.path().join("out");
        let plain = File::create(&path).unwrap();
        run_blocks(Io::new(plain, direct(&path)), &data, 0);
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }

    #[test]
    fn without_a_direct_handle_the_bytes_are_the_same() {
        written_whole(9, |_| None);
    }

    #[test]
    fn a_refused_direct_write_goes_through_the_plain_handle_from_its_offset() {
        // A read-only handle refuses every write, as a file system refusing an
        // alignment would: the first block already takes the plain path.
        written_whole(5, |path| Some(File::open(path).unwrap()));
    }

    #[test]
    fn a_direct_write_refused_midway_goes_on_from_the_refused_block() {
        let dir = tempfile::tempdir().unwrap();
        let data = bytes(3 * BLOCK + 999, 7);
        let path = dir.path().join("midway");
        // A second ordinary handle stands in for the direct one: it takes the first
        // block, then is swapped for one that refuses.
        let mut io = Io::new(
            File::create(&path).unwrap(),
            Some(OpenOptions::new().write(true).open(&path).unwrap()),
        );
        io.write(&mut block_of(&data[..BLOCK]), false).unwrap();
        io.direct = Some(File::open(&path).unwrap());
        run_blocks(io, &data, BLOCK);
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }

    /// Feeds `data` to `io` block by block, the last through its thread loop.
    /// (from byte `from`: the blocks before it are written already, and hashed).
    fn run_blocks(mut io: Io, data: &[u8], from: usize) {
        let hashed = {
            use sha2::Digest as _;
            hex::encode(sha2::Sha256::digest(data))
        };
        let mut blocks: Vec<Block> = data[from..].chunks(BLOCK).map(block_of).collect();
        let last = blocks.pop().unwrap();
        for mut b in blocks {
            io.write(&mut b, false).unwrap();
        }
        let (tx, rx) = sync_channel(MAX_BLOCKS);
        let (back_tx, _back) = sync_channel(MAX_BLOCKS);
        tx.send(Job::Write {
            block: last,
            last: true,
        })
        .unwrap();
        let (_, digest) = io.run(rx, back_tx).unwrap();
        assert_eq!(digest.size, data.len() as u64);
        assert_eq!(digest.sha256, hashed);
    }
}
