//! Per-client budgets: what one client may spend, in the document cost the
//! gate already computes, so that one client cannot take the whole server
//! with legal but expensive queries.
//!
//! Each API token has a budget of its own, and each IP address one for
//! the requests it sends without a token. A budget holds `per_minute`
//! points and refills at that rate, continuously (GCRA, from `governor`): a
//! client may spend the whole of it at once, then a point every
//! `60 s / per_minute`. Budgets live in the process: each replica keeps
//! its own.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::auth::Caller;

/// Who spends: a token, or the address of a request without one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Client {
    Token(i64),
    Address(IpAddr),
}

impl Client {
    pub fn of(caller: &Caller, address: IpAddr) -> Client {
        match caller {
            Caller::Token { id, .. } => Client::Token(*id),
            Caller::Anonymous => Client::Address(address),
        }
    }
}

type Limiter = RateLimiter<Client, DashMapStateStore<Client>, DefaultClock, StateInformationMiddleware>;

/// One kind of budget: its name in the `RateLimit` headers, its size, and
/// every client's state.
struct Policy {
    name: &'static str,
    per_minute: NonZeroU32,
    limiter: Limiter,
}

impl Policy {
    fn new(name: &'static str, per_minute: u32) -> Option<Policy> {
        let per_minute = NonZeroU32::new(per_minute)?;
        let limiter =
            RateLimiter::dashmap(Quota::per_minute(per_minute)).with_middleware::<StateInformationMiddleware>();
        Some(Policy { name, per_minute, limiter })
    }

    /// The time one point takes to come back.
    fn point(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute.get()
    }
}

/// The budgets of every client of this process.
pub struct Budgets {
    tokens: Option<Policy>,
    addresses: Option<Policy>,
}

/// What a request spent, and what is left: the `RateLimit` headers and the
/// `rateLimit` extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spent {
    /// `token` or `address`.
    pub policy: &'static str,
    /// The budget's size: points per minute, all of which may be spent at once.
    pub limit: u32,
    /// Points left now.
    pub remaining: u32,
    /// Seconds until the budget is whole again.
    pub reset_seconds: u64,
    /// What the request cost.
    pub cost: u64,
}

/// A request the budget cannot pay for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Over {
    pub policy: &'static str,
    pub limit: u32,
    pub cost: u64,
    /// Whole seconds until the budget holds the cost again; `None` when the
    /// cost is more than the whole budget, so waiting does not help.
    pub retry_after_seconds: Option<u64>,
}

impl Over {
    pub fn message(&self) -> String {
        match self.retry_after_seconds {
            Some(seconds) => format!(
                "this request costs {} points and your {} budget ({} a minute) holds fewer now; retry in {seconds} s",
                self.cost, self.policy, self.limit
            ),
            None => format!(
                "this request costs {} points, more than your whole {} budget ({} a minute)",
                self.cost, self.policy, self.limit
            ),
        }
    }
}

fn ceil_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Budgets {
    /// Budgets of `per_token` points a minute per token and `per_address`
    /// per IP address for requests without one; 0 turns that kind off.
    pub fn new(per_token: u32, per_address: u32) -> Budgets {
        Budgets { tokens: Policy::new("token", per_token), addresses: Policy::new("address", per_address) }
    }

    /// Spends `cost` (at least 1: a refused document costs a point) from
    /// `client`'s budget; `Ok(None)` when its kind of budget is off.
    pub fn spend(&self, client: &Client, cost: u64) -> Result<Option<Spent>, Over> {
        let policy = match client {
            Client::Token(_) => &self.tokens,
            Client::Address(_) => &self.addresses,
        };
        let Some(policy) = policy else {
            return Ok(None);
        };
        let cost = cost.max(1);
        let limit = policy.per_minute.get();
        let over = |retry_after_seconds| Over { policy: policy.name, limit, cost, retry_after_seconds };
        let points = u32::try_from(cost).ok().and_then(NonZeroU32::new).ok_or_else(|| over(None))?;
        match policy.limiter.check_key_n(client, points) {
            Ok(Ok(snapshot)) => {
                let remaining = snapshot.remaining_burst_capacity();
                let reset = policy.point() * (limit - remaining.min(limit));
                Ok(Some(Spent { policy: policy.name, limit, remaining, reset_seconds: ceil_seconds(reset), cost }))
            }
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(over(Some(ceil_seconds(wait).max(1))))
            }
            Err(_insufficient_capacity) => Err(over(None)),
        }
    }

    /// Forgets the clients whose budgets are whole again, so the memory
    /// they take does not grow with every address ever seen.
    pub fn forget_idle(&self) {
        for policy in [&self.tokens, &self.addresses].into_iter().flatten() {
            policy.limiter.retain_recent();
            policy.limiter.shrink_to_fit();
        }
    }
}

impl Spent {
    /// `RateLimit-Policy` (IETF draft-ietf-httpapi-ratelimit-headers).
    pub fn policy_header(&self) -> String {
        format!("\"{}\";q={};w=60", self.policy, self.limit)
    }

    /// `RateLimit` (the same draft).
    pub fn header(&self) -> String {
        format!("\"{}\";r={};t={}", self.policy, self.remaining, self.reset_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::{Budgets, Client};
    use std::net::{IpAddr, Ipv4Addr};

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn a_budget_pays_until_it_is_spent_then_says_when_to_retry() {
        let budgets = Budgets::new(1_000, 600);
        let client = Client::Address(HOME);
        let spent = budgets.spend(&client, 400).expect("within budget").expect("on");
        assert_eq!((spent.policy, spent.limit, spent.remaining, spent.cost), ("address", 600, 200, 400));
        // 400 points at 10 a second come back in 40 s.
        assert_eq!(spent.reset_seconds, 40);
        assert_eq!(spent.header(), "\"address\";r=200;t=40");
        assert_eq!(spent.policy_header(), "\"address\";q=600;w=60");
        let over = budgets.spend(&client, 300).expect_err("over budget");
        assert_eq!(over.retry_after_seconds, Some(10), "100 points more are needed, at 10 a second");
        // Another client's budget is its own.
        assert!(budgets.spend(&Client::Address(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))), 300).is_ok());
        assert_eq!(budgets.spend(&Client::Token(1), 1_000).expect("a token's budget").map(|s| s.remaining), Some(0));
    }

    #[test]
    fn a_cost_above_the_whole_budget_never_runs_and_zero_costs_a_point() {
        let budgets = Budgets::new(100, 100);
        let over = budgets.spend(&Client::Token(7), 101).expect_err("more than the whole budget");
        assert_eq!(over.retry_after_seconds, None);
        assert!(over.message().contains("more than your whole token budget"));
        assert_eq!(budgets.spend(&Client::Token(7), 0).expect("a point").map(|s| (s.cost, s.remaining)), Some((1, 99)));
    }

    #[test]
    fn a_budget_of_zero_is_off() {
        let budgets = Budgets::new(0, 10);
        assert_eq!(budgets.spend(&Client::Token(1), 1_000_000), Ok(None));
        assert!(budgets.spend(&Client::Address(HOME), 11).is_err());
    }
}
