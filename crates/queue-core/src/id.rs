//! Identifiers: job ids (ULIDs) and claim tokens.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ulid::{Generator, Ulid};

use crate::QueueError;

/// A job's id: a ULID, shown as its 26-character Crockford base32 string.
///
/// Ids made in one process are strictly increasing, so ordering by id is ordering by
/// creation even within one millisecond.
///
/// ```
/// use queue_core::JobId;
/// let a = JobId::new();
/// let b = JobId::new();
/// assert!(a < b);
/// assert_eq!(a.to_string().len(), 26);
/// assert_eq!(a.to_string().parse::<JobId>().unwrap(), a);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(Ulid);

static GENERATOR: Mutex<Option<Generator>> = Mutex::new(None);

impl JobId {
    /// A fresh id, greater than every id this process made before.
    pub fn new() -> Self {
        let mut guard = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
        let generator = guard.get_or_insert_with(Generator::new);
        // The generator fails only when 80 random bits overflow within one millisecond.
        match generator.generate() {
            Ok(id) => JobId(id),
            Err(_) => JobId(Ulid::new()),
        }
    }

    /// The id as a ULID.
    pub fn as_ulid(&self) -> Ulid {
        self.0
    }

    /// The id as 16 big-endian bytes (sorts like the id).
    pub fn to_bytes(&self) -> [u8; 16] {
        self.0.to_bytes()
    }

    /// The id from 16 big-endian bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        JobId(Ulid::from_bytes(bytes))
    }

    /// Milliseconds since the Unix epoch encoded in the id.
    pub fn timestamp_ms(&self) -> u64 {
        self.0.timestamp_ms()
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Ulid> for JobId {
    fn from(u: Ulid) -> Self {
        JobId(u)
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; ulid::ULID_LEN];
        f.write_str(self.0.array_to_str(&mut buf))
    }
}

impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobId({self})")
    }
}

impl FromStr for JobId {
    type Err = QueueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ulid::from_string(s)
            .map(JobId)
            .map_err(|e| QueueError::InvalidJob(format!("bad job id {s:?}: {e}")))
    }
}

impl Serialize for JobId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for JobId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A fresh random token handed out with each claim. Ack, nack and heartbeat must present
/// it; once a job is reclaimed its old token is worthless ("fencing").
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClaimToken(pub i64);

impl ClaimToken {
    /// A new random, non-zero token.
    pub fn random() -> Self {
        loop {
            let t = fastrand::i64(..);
            if t != 0 {
                return ClaimToken(t);
            }
        }
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimToken({:016x})", self.0)
    }
}

impl fmt::Display for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}
