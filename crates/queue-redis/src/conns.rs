//! Which connection each kind of call uses. Claims and settlements (ack, nack, heartbeat…)
//! each have a connection of their own, so a batch's ack never queues behind the next
//! claim's script on one socket (replies on a connection come back in order); enqueues,
//! reads and maintenance share the rest.

use std::sync::atomic::{AtomicUsize, Ordering};

use fred::prelude::{Client, Pool};

/// The queue's pool, split by use.
pub(crate) struct Conns {
    pool: Pool,
    turn: AtomicUsize,
}

impl Conns {
    pub(crate) fn new(pool: Pool) -> Self {
        Conns {
            pool,
            turn: AtomicUsize::new(0),
        }
    }

    /// The whole pool.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The connection of claims: the pool's first (fred pools are never empty).
    pub(crate) fn claim(&self) -> &Client {
        self.at(0)
    }

    /// The connection of settlements: the pool's second, or its only one.
    pub(crate) fn settle(&self) -> &Client {
        self.at(1)
    }

    /// A connection for anything else, in turn: the ones after the first two, or all of
    /// them in a pool of one or two.
    pub(crate) fn other(&self) -> &Client {
        let n = self.pool.size();
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        if n > 2 {
            self.at(2 + turn % (n - 2))
        } else {
            self.at(turn)
        }
    }

    /// The client at `i`, wrapping around.
    fn at(&self, i: usize) -> &Client {
        let clients = self.pool.clients();
        &clients[i % clients.len()]
    }
}

#[cfg(test)]
mod tests {
    use fred::prelude::{Builder, ClientLike, Config};

    use super::*;

    fn conns(size: usize) -> Conns {
        let pool = Builder::from_config(Config::default())
            .build_pool(size)
            .unwrap_or_else(|e| panic!("{e}"));
        Conns::new(pool)
    }

    fn id(c: &Client) -> String {
        c.id().to_string()
    }

    /// Claims and settlements never share a connection with each other or with the rest
    /// when the pool has room; small pools still work.
    #[test]
    fn claims_and_settlements_have_their_own_connections() {
        let c = conns(4);
        assert_ne!(id(c.claim()), id(c.settle()));
        for _ in 0..8 {
            let other = id(c.other());
            assert_ne!(other, id(c.claim()));
            assert_ne!(other, id(c.settle()));
        }
        let two = conns(2);
        assert_ne!(id(two.claim()), id(two.settle()));
        let one = conns(1);
        assert_eq!(id(one.claim()), id(one.settle()));
        assert_eq!(id(one.other()), id(one.claim()));
    }
}
