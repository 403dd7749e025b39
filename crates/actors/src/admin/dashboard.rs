//! The admin dashboard's own reading (`GET /admin`): what the overview counts, and this
//! instance's recent token activity. Everything else the dashboard shows and changes goes
//! through the same operations as the REST API.

use super::{Admin, AdminOp};
use crate::activity::MinuteCounts;
use crate::services::Services;
use oauth2_core::ports::Counts;
use oauth2_core::{OAuthError, UnixTime};
use std::sync::Arc;

/// What the overview shows.
#[derive(Debug, Clone)]
pub struct OverviewData {
    pub counts: Counts,
    /// This instance's last minutes, newest first.
    pub recent: Vec<MinuteCounts>,
    pub now: UnixTime,
}

/// The overview: counts from the database, activity from this instance's memory.
pub struct Overview {
    /// How many minutes of activity.
    pub minutes: usize,
}

impl AdminOp for Overview {
    type Output = OverviewData;
    async fn run(
        self,
        svc: Arc<Services>,
        _: Admin,
        now: UnixTime,
    ) -> Result<OverviewData, OAuthError> {
        let counts = svc
            .store
            .counts(now - svc.settings.session_idle_timeout, now)
            .await?;
        Ok(OverviewData {
            counts,
            recent: svc.activity.recent(now, self.minutes),
            now,
        })
    }
}

/// Two operations run one after the other for the same admin, in one call: a page that shows a
/// client and its tokens checks the caller once. Stops at the first error.
pub struct Both<A, B>(pub A, pub B);

impl<A: AdminOp, B: AdminOp> AdminOp for Both<A, B> {
    type Output = (A::Output, B::Output);
    async fn run(
        self,
        svc: Arc<Services>,
        admin: Admin,
        now: UnixTime,
    ) -> Result<(A::Output, B::Output), OAuthError> {
        let a = self.0.run(svc.clone(), admin.clone(), now).await?;
        let b = self.1.run(svc, admin, now).await?;
        Ok((a, b))
    }
}

/// Runs nothing: the caller's authentication is the whole answer (a page that shows only a
/// form, such as a new client's).
pub struct Authenticate;

impl AdminOp for Authenticate {
    type Output = ();
    async fn run(self, _: Arc<Services>, _: Admin, _: UnixTime) -> Result<(), OAuthError> {
        Ok(())
    }
}
