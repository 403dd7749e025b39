//! Batched deny-list lookups for introspection.
//!
//! Every introspection must see every revocation committed before it arrived, on any instance, so
//! each one needs the database. Under load, concurrent lookups are grouped: a lookup that arrives
//! while a query runs joins the next query, which starts after that one finishes — so it still
//! starts after the lookup arrived, and the answer is exactly as fresh as a query of its own.
//! The database then sees one query per batch instead of one per introspection.

use oauth2_core::OAuthError;
use oauth2_core::ports::{MAX_DENY_BATCH, Storage};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<bool, String>>;

#[derive(Default)]
struct State {
    pending: Vec<(String, Reply)>,
    running: bool,
}

#[derive(Default)]
pub struct DenyList {
    state: Mutex<State>,
}

impl DenyList {
    pub async fn is_revoked(
        self: &Arc<Self>,
        store: &Arc<dyn Storage>,
        jti: &str,
    ) -> Result<bool, OAuthError> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut s = self
                .state
                .lock()
                .map_err(|_| OAuthError::server_error("deny-list lock poisoned"))?;
            s.pending.push((jti.to_owned(), tx));
            !std::mem::replace(&mut s.running, true)
        };
        if start {
            let me = self.clone();
            let store = store.clone();
            tokio::spawn(async move { me.drain(store).await });
        }
        rx.await
            .map_err(OAuthError::server_error)?
            .map_err(OAuthError::server_error)
    }

    /// Runs batches until nobody waits.
    async fn drain(self: Arc<Self>, store: Arc<dyn Storage>) {
        loop {
            let batch: Vec<(String, Reply)> = {
                let Ok(mut s) = self.state.lock() else {
                    return;
                };
                if s.pending.is_empty() {
                    s.running = false;
                    return;
                }
                let n = s.pending.len().min(MAX_DENY_BATCH);
                s.pending.drain(..n).collect()
            };
            let jtis: Vec<String> = batch.iter().map(|(j, _)| j.clone()).collect();
            let revoked = store.revoked_among(&jtis).await.map_err(|e| e.to_string());
            for (jti, reply) in batch {
                let answer = match &revoked {
                    Ok(list) => Ok(list.contains(&jti)),
                    Err(e) => Err(e.clone()),
                };
                let _ = reply.send(answer);
            }
        }
    }
}
