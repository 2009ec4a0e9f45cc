//! Password verification on a fixed set of threads, each reusing one argon2 memory buffer.
//!
//! argon2 needs its memory (19 MiB with the default parameters) for every verification. On
//! tokio's blocking pool each verification lands on whichever of its threads is free, and the
//! allocator keeps the freed memory in that thread's arena: under a flood of wrong passwords the
//! server grew by hundreds of MiB even with one verification at a time. Here each of `n` threads
//! owns one buffer, allocated once and reused, so verification memory is `n` buffers whatever
//! the traffic.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{oneshot, OwnedSemaphorePermit};

/// The most argon2 memory a stored hash may ask for (256 MiB): a hash with larger parameters
/// fails verification rather than allocating without bound.
const MAX_BLOCKS: usize = 256 * 1024;

/// One verification: the password, the stored PHC string, the verifier permit it holds until the
/// work is done (so a client that hangs up frees nothing early) and where the answer goes.
struct Job {
    password: String,
    phc: String,
    permit: OwnedSemaphorePermit,
    reply: oneshot::Sender<bool>,
}

/// A fixed set of verifier threads; they end when the pool is dropped.
pub(crate) struct VerifierPool {
    jobs: mpsc::Sender<Job>,
}

impl VerifierPool {
    /// Starts `threads` verifier threads (at least one).
    pub fn new(threads: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-verifier-{index}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok(job) = next else { return };
                        let ok = verify_with(&job.password, &job.phc, &mut memory);
                        drop(job.permit);
                        let _ = job.reply.send(ok);
                    }
                })
                .expect("a password verifier thread starts");
        }
        Self { jobs }
    }

    /// Verifies `password` against `phc` on a verifier thread, holding `permit` until done.
    pub async fn verify(
        &self,
        password: String,
        phc: String,
        permit: OwnedSemaphorePermit,
    ) -> bool {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            password,
            phc,
            permit,
            reply,
        };
        if self.jobs.send(job).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

/// Verifies `password` against an argon2 PHC string, with `memory` as argon2's working memory
/// (grown to what the hash's parameters need, then reused).
fn verify_with(password: &str, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) =
        (Params::try_from(&hash), Algorithm::try_from(hash.algorithm))
    else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks])
        .is_ok()
        // `Output` compares in constant time.
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::hash_password;

    #[test]
    fn verifies_as_argon2_does_and_reuses_its_memory() {
        let phc = hash_password("correct horse");
        let mut memory = Vec::new();
        assert!(verify_with("correct horse", &phc, &mut memory));
        let allocated = memory.len();
        assert!(allocated > 0);
        assert!(!verify_with("wrong horse", &phc, &mut memory));
        assert_eq!(memory.len(), allocated, "the buffer is reused, not grown");
        assert!(!verify_with(
            "correct horse",
            "not a phc string",
            &mut memory
        ));
    }

    #[tokio::test]
    async fn threads_answer_and_release_the_permit() {
        let pool = VerifierPool::new(1);
        let permits = Arc::new(tokio::sync::Semaphore::new(1));
        let phc = hash_password("s3cret-pass");
        let permit = permits.clone().acquire_owned().await.unwrap();
        assert!(pool.verify("s3cret-pass".into(), phc.clone(), permit).await);
        let permit = permits
            .clone()
            .try_acquire_owned()
            .expect("the permit came back");
        assert!(!pool.verify("nope".into(), phc, permit).await);
    }
}
