//! Typed bank events, with the Cosmos SDK's event and attribute names so indexers and
//! wallets that watch `transfer` / `coin_spent` / `coin_received` work unchanged.

use ve_module::Event;
use ve_types::{Address, Coins};

pub fn coin_spent(spender: &Address, amount: &Coins) -> Event {
    Event::new("coin_spent")
        .attr("spender", spender)
        .attr("amount", amount)
}

pub fn coin_received(receiver: &Address, amount: &Coins) -> Event {
    Event::new("coin_received")
        .attr("receiver", receiver)
        .attr("amount", amount)
}

pub fn transfer(sender: &Address, recipient: &Address, amount: &Coins) -> Event {
    Event::new("transfer")
        .attr("recipient", recipient)
        .attr("sender", sender)
        .attr("amount", amount)
}
