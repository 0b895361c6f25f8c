//! The client's address behind reverse proxies the operator trusts (`CHAT_TRUSTED_PROXIES`).
//!
//! Every per-address limit (logins, registrations, Engine.IO sessions) and every log line reads
//! the request's peer address. Behind a load balancer that address is the balancer's, so all
//! clients would share one allowance. A proxy the operator names appends the address it saw to
//! `X-Forwarded-For` (nginx `proxy_add_x_forwarded_for`, HAProxy `option forwardfor`); anyone
//! can write that header, so it is believed only when the connection comes from a trusted
//! proxy, and only as far as the chain of trusted proxies goes: read from the right, the first
//! address that is not a trusted proxy is the client (the rule of nginx's `real_ip_recursive`
//! and Express's `trust proxy`). With no trusted proxies (the default), nothing changes.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use actix_web::HttpRequest;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use futures_util::future::{Ready, ready};
use ipnet::IpNet;

/// The header trusted proxies append the client's address to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses or CIDR networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses (`10.0.0.5`, `::1`) and networks
    /// (`10.0.0.0/8`, `fd00::/8`); an empty list trusts no proxy.
    ///
    /// # Errors
    /// The first entry that is neither, as written.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| entry.to_owned())
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client behind `peer`: `peer` itself unless it is a trusted proxy; then, walking
    /// `forwarded_for` (the `X-Forwarded-For` values, in order) from the right, the first
    /// address that is not a trusted proxy. An entry that is not an address ends the walk at the
    /// last trusted hop, whose word is all that can be believed.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = forwarded_for
            .iter()
            .rev()
            .flat_map(|value| value.rsplit(','))
            .map(str::trim);
        for hop in hops {
            let Some(address) = parse_hop(hop) else {
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }
}

/// An IPv4 address mapped into IPv6 (as a dual-stack socket reports it) as plain IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// Who a login or registration attempt counts against: the client's address, with an IPv6
/// address cut to its /64 network, since one host is usually given a whole /64 and could
/// otherwise try from 2^64 addresses; the unspecified address when there is none.
pub(crate) fn attempts_key(request: &HttpRequest) -> IpAddr {
    request
        .peer_addr()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |peer| {
            network_of(peer.ip())
        })
}

/// An IPv4 address as it is (also when mapped into IPv6), an IPv6 address as its /64.
fn network_of(address: IpAddr) -> IpAddr {
    match canonical(address) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[::1]:5678`), as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
}

/// The middleware factory: `App::new().wrap(ClientAddress::new(trusted))`. It replaces the
/// request's peer address with the client's, so that everything after it sees the client.
#[derive(Debug, Clone)]
pub struct ClientAddress {
    trusted: TrustedProxies,
}

impl ClientAddress {
    /// The middleware for `trusted` proxies.
    pub fn new(trusted: TrustedProxies) -> Self {
        ClientAddress { trusted }
    }
}

impl<S, B> Transform<S, ServiceRequest> for ClientAddress
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = ClientAddressMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ClientAddressMiddleware {
            service,
            trusted: self.trusted.clone(),
        }))
    }
}

/// The middleware itself; see [`ClientAddress`].
pub struct ClientAddressMiddleware<S> {
    service: S,
    trusted: TrustedProxies,
}

impl<S, B> Service<ServiceRequest> for ClientAddressMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = S::Future;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        if !self.trusted.is_empty()
            && let Some(peer) = request.peer_addr()
        {
            let forwarded: Vec<&str> = request
                .headers()
                .get_all(FORWARDED_FOR)
                .filter_map(|value| value.to_str().ok())
                .collect();
            let client = self.trusted.client(peer.ip(), &forwarded);
            if client != peer.ip() {
                request.head_mut().peer_addr = Some(SocketAddr::new(client, 0));
            }
        }
        self.service.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or_else(|_| panic!("{text} is an address"))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = TrustedProxies::parse("10.0.0.1").unwrap_or_default();
        assert_eq!(
            trusted.client(ip("203.0.113.9"), &["1.2.3.4"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &["1.2.3.4"]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_chain_is_read_from_the_right_up_to_the_first_untrusted_hop() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap_or_default();
        // A client that forged the leftmost entry: the balancer appended the real address.
        let forwarded = ["6.6.6.6, 198.51.100.7", "10.0.0.2"];
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &forwarded),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted.client(ip("::1"), &["198.51.100.7:4312"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted.client(ip("::ffff:10.0.0.1"), &["[2001:db8::1]:80"]),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_trusted_hop() {
        let trusted = TrustedProxies::parse("10.0.0.1,10.0.0.2").unwrap_or_default();
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &["unknown, 10.0.0.2"]),
            ip("10.0.0.2")
        );
        assert_eq!(trusted.client(ip("10.0.0.1"), &[]), ip("10.0.0.1"));
    }

    #[test]
    fn the_list_takes_addresses_and_networks_and_names_a_bad_entry() {
        assert_eq!(TrustedProxies::parse(" ").map(|t| t.is_empty()), Ok(true));
        assert!(TrustedProxies::parse("10.0.0.1, fd00::/8").is_ok());
        assert_eq!(
            TrustedProxies::parse("10.0.0.1, proxy.local"),
            Err("proxy.local".to_owned())
        );
    }

    #[test]
    fn attempts_count_against_an_ipv4_address_or_an_ipv6_network() {
        let v4 = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7));
        assert_eq!(network_of(v4), v4);
        let mapped = IpAddr::V6(std::net::Ipv4Addr::new(203, 0, 113, 7).to_ipv6_mapped());
        assert_eq!(network_of(mapped), v4);
        let one: IpAddr = "2001:db8:1:2:aaaa:bbbb:cccc:dddd".parse().unwrap();
        let other: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        assert_eq!(network_of(one), network_of(other));
        assert_eq!(network_of(one), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        let next: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_ne!(network_of(one), network_of(next));
    }
}
