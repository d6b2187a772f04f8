//! TEMP (merged with the transport's mod.rs later)
pub mod api;
pub mod merchant;
pub mod scenario;
mod tl_make;
pub mod web;
pub mod world;
pub use scenario::{Scenario, ScenarioError};
