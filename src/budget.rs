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
//!
//! An address's budget is its network's where one host usually holds many
//! addresses: an IPv6 address spends from its /64's budget (a host given a
//! /64 would otherwise have 2^64 budgets), and an IPv4 address written as
//! IPv6 (`::ffff:a.b.c.d`) from its IPv4 address's.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::auth::Caller;

/// Who spends: a token, or the network of a request without one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Client {
    Token(i64),
    Address(Network),
}

/// The addresses that share a budget: made only from an address, so no
/// budget is ever keyed by a whole IPv6 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Network(IpAddr);

impl From<IpAddr> for Network {
    fn from(address: IpAddr) -> Network {
        Network(match address {
            IpAddr::V4(_) => address,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let [a, b, c, d, ..] = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
                }
            },
        })
    }
}

impl Client {
    pub fn of(caller: &Caller, address: IpAddr) -> Client {
        match caller {
            Caller::Token { id, .. } => Client::Token(*id),
            Caller::Anonymous => Client::address(address),
        }
    }

    /// The budget of requests without a token from `address`.
    pub fn address(address: IpAddr) -> Client {
        Client::Address(Network::from(address))
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
    /// Networks whose refused tokens their budget could not pay for, and
    /// until when: they are refused before the next lookup, so guessing
    /// tokens costs the database nothing once the budget is spent.
    guessing: Mutex<HashMap<Network, Refused>>,
}

/// When a network that spent its budget on refused tokens may try again.
#[derive(Clone, Copy, Debug)]
struct Refused {
    retry_at: Instant,
    whole_at: Instant,
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
    /// What waiting brings; `None` when the cost is more than the whole
    /// budget, so waiting does not help (and the budget is not looked at).
    pub wait: Option<Wait>,
}

/// How a budget that holds less than a request's cost stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    /// Whole seconds until the budget holds the cost again (at least 1).
    pub retry_after_seconds: u64,
    /// Points left now: fewer than the cost.
    pub remaining: u32,
    /// Seconds until the budget is whole again.
    pub reset_seconds: u64,
}

impl Over {
    pub fn retry_after_seconds(&self) -> Option<u64> {
        self.wait.as_ref().map(|wait| wait.retry_after_seconds)
    }

    /// `RateLimit-Policy` (IETF draft-ietf-httpapi-ratelimit-headers).
    pub fn policy_header(&self) -> String {
        policy_header(self.policy, self.limit)
    }

    /// `RateLimit`, when the budget was looked at.
    pub fn header(&self) -> Option<String> {
        self.wait.as_ref().map(|wait| header(self.policy, wait.remaining, wait.reset_seconds))
    }

    pub fn message(&self) -> String {
        match self.retry_after_seconds() {
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
        Budgets {
            tokens: Policy::new("token", per_token),
            addresses: Policy::new("address", per_address),
            guessing: Mutex::default(),
        }
    }

    /// Before a token is looked up: refused when the request's network
    /// spent its budget on refused tokens and may not try again yet.
    pub fn may_look_up(&self, address: IpAddr) -> Result<(), Over> {
        let Some(policy) = &self.addresses else { return Ok(()) };
        let Ok(guessing) = self.guessing.lock() else { return Ok(()) };
        let Some(refused) = guessing.get(&Network::from(address)).copied() else { return Ok(()) };
        let now = Instant::now();
        if now >= refused.retry_at {
            return Ok(());
        }
        Err(Over {
            policy: policy.name,
            limit: policy.per_minute.get(),
            cost: 1,
            wait: Some(Wait {
                retry_after_seconds: ceil_seconds(refused.retry_at - now).max(1),
                remaining: 0,
                reset_seconds: ceil_seconds(refused.whole_at.saturating_duration_since(now)),
            }),
        })
    }

    /// After a token was refused: the lookup costs its network a point;
    /// when it cannot pay, its next lookups wait as long as it must.
    pub fn refused_token(&self, address: IpAddr) -> Result<Option<Spent>, Over> {
        let spent = self.spend(&Client::address(address), 1);
        if let Err(Over { wait: Some(wait), .. }) = &spent
            && let Ok(mut guessing) = self.guessing.lock()
        {
            let now = Instant::now();
            let refused = Refused {
                retry_at: now + Duration::from_secs(wait.retry_after_seconds),
                whole_at: now + Duration::from_secs(wait.reset_seconds),
            };
            guessing.insert(Network::from(address), refused);
        }
        spent
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
        let over = |wait| Over { policy: policy.name, limit, cost, wait };
        let points = u32::try_from(cost).ok().and_then(NonZeroU32::new).ok_or_else(|| over(None))?;
        match policy.limiter.check_key_n(client, points) {
            Ok(Ok(snapshot)) => {
                let remaining = snapshot.remaining_burst_capacity();
                let reset = policy.point() * (limit - remaining.min(limit));
                Ok(Some(Spent { policy: policy.name, limit, remaining, reset_seconds: ceil_seconds(reset), cost }))
            }
            Ok(Err(not_until)) => {
                // GCRA: the cost is whole after `wait`, so `wait` short of
                // it is missing now, and the rest of the budget after that.
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let point = policy.point();
                // At least one: the refusal means the cost is not there now.
                let missing =
                    u32::try_from(wait.as_nanos().div_ceil(point.as_nanos().max(1))).unwrap_or(u32::MAX).max(1);
                let remaining = points.get().saturating_sub(missing);
                let reset = wait + point * (limit - points.get());
                Err(over(Some(Wait {
                    retry_after_seconds: ceil_seconds(wait).max(1),
                    remaining,
                    reset_seconds: ceil_seconds(reset),
                })))
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
        if let Ok(mut guessing) = self.guessing.lock() {
            let now = Instant::now();
            guessing.retain(|_, refused| refused.retry_at > now);
            guessing.shrink_to_fit();
        }
    }
}

impl Spent {
    /// `RateLimit-Policy` (IETF draft-ietf-httpapi-ratelimit-headers).
    pub fn policy_header(&self) -> String {
        policy_header(self.policy, self.limit)
    }

    /// `RateLimit` (the same draft).
    pub fn header(&self) -> String {
        header(self.policy, self.remaining, self.reset_seconds)
    }
}

fn policy_header(policy: &str, limit: u32) -> String {
    format!("\"{policy}\";q={limit};w=60")
}

fn header(policy: &str, remaining: u32, reset_seconds: u64) -> String {
    format!("\"{policy}\";r={remaining};t={reset_seconds}")
}

#[cfg(test)]
mod tests {
    use super::{Budgets, Client};
    use std::net::{IpAddr, Ipv4Addr};

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn a_budget_pays_until_it_is_spent_then_says_when_to_retry() {
        let budgets = Budgets::new(1_000, 600);
        let client = Client::address(HOME);
        let spent = budgets.spend(&client, 400).expect("within budget").expect("on");
        assert_eq!((spent.policy, spent.limit, spent.remaining, spent.cost), ("address", 600, 200, 400));
        // 400 points at 10 a second come back in 40 s.
        assert_eq!(spent.reset_seconds, 40);
        assert_eq!(spent.header(), "\"address\";r=200;t=40");
        assert_eq!(spent.policy_header(), "\"address\";q=600;w=60");
        let over = budgets.spend(&client, 300).expect_err("over budget");
        let wait = over.wait.as_ref().expect("waiting helps");
        assert_eq!(wait.retry_after_seconds, 10, "100 points more are needed, at 10 a second");
        // 200 points are left, and the budget is whole in 40 s: what a
        // request that fits would have been told.
        assert_eq!((wait.remaining, wait.reset_seconds), (200, 40));
        assert_eq!(over.header().as_deref(), Some("\"address\";r=200;t=40"));
        // Another client's budget is its own.
        assert!(budgets.spend(&Client::address(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))), 300).is_ok());
        assert_eq!(budgets.spend(&Client::Token(1), 1_000).expect("a token's budget").map(|s| s.remaining), Some(0));
    }

    #[test]
    fn a_cost_above_the_whole_budget_never_runs_and_zero_costs_a_point() {
        let budgets = Budgets::new(100, 100);
        let over = budgets.spend(&Client::Token(7), 101).expect_err("more than the whole budget");
        assert_eq!((over.retry_after_seconds(), over.header()), (None, None));
        assert!(over.message().contains("more than your whole token budget"));
        assert_eq!(budgets.spend(&Client::Token(7), 0).expect("a point").map(|s| (s.cost, s.remaining)), Some((1, 99)));
    }

    #[test]
    fn a_budget_of_zero_is_off() {
        let budgets = Budgets::new(0, 10);
        assert_eq!(budgets.spend(&Client::Token(1), 1_000_000), Ok(None));
        assert!(budgets.spend(&Client::address(HOME), 11).is_err());
    }

    #[test]
    fn an_ipv6_address_spends_its_64s_budget_and_a_mapped_ipv4_its_own() {
        let budgets = Budgets::new(0, 10);
        let host: IpAddr = "2001:db8:1:2::1".parse().expect("an address");
        let neighbour: IpAddr = "2001:db8:1:2:ffff:0:0:9".parse().expect("an address");
        let next_network: IpAddr = "2001:db8:1:3::1".parse().expect("an address");
        assert_eq!(Client::address(host), Client::address(neighbour));
        assert!(budgets.spend(&Client::address(host), 10).is_ok());
        assert!(budgets.spend(&Client::address(neighbour), 1).is_err(), "the /64 has spent its budget");
        assert!(budgets.spend(&Client::address(next_network), 10).is_ok());
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("an address");
        assert_eq!(Client::address(mapped), Client::address(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))));
        assert_ne!(Client::address(mapped), Client::address(host));
        // IPv4 addresses are not grouped.
        assert_ne!(Client::address(HOME), Client::address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
    }
}
