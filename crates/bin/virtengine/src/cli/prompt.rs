//! Reading secrets: from the terminal without echo when stdin is a terminal, else one
//! line at a time from stdin (so scripts can pipe `mnemonic\npassphrase\n`).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context, Result};
use zeroize::Zeroizing;

/// Whether prompts go to a person.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// One line from stdin (without the line break); fails at end of input.
pub fn read_line(what: &str) -> Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("reading {what} from stdin"))?;
    if n == 0 {
        bail!("expected {what} on stdin, got end of input");
    }
    let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    Ok(trimmed)
}

/// Prints `prompt` on stderr and reads a line; echo is off when `secret` and stdin is
/// a terminal.
pub fn ask(prompt: &str, secret: bool) -> Result<Zeroizing<String>> {
    if !interactive() {
        return read_line(prompt.trim_end_matches([':', ' ']));
    }
    eprint!("{prompt}");
    std::io::stderr().flush().ok();
    if !secret {
        return read_line(prompt);
    }
    let stdin = std::io::stdin();
    let saved = nix::sys::termios::tcgetattr(&stdin).ok();
    if let Some(orig) = &saved {
        let mut t = orig.clone();
        t.local_flags.remove(nix::sys::termios::LocalFlags::ECHO);
        t.local_flags.insert(nix::sys::termios::LocalFlags::ECHONL);
        let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &t);
    }
    let line = read_line(prompt);
    if let Some(orig) = &saved {
        let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, orig);
    }
    line
}

/// A new passphrase: asked twice on a terminal, read once from a pipe.
pub fn new_passphrase() -> Result<Zeroizing<String>> {
    let first = ask("Enter keyring passphrase (at least 8 characters): ", true)?;
    if first.chars().count() < 8 {
        bail!("passphrase must be at least 8 characters");
    }
    if interactive() {
        let again = ask("Re-enter keyring passphrase: ", true)?;
        if *again != *first {
            bail!("passphrases do not match");
        }
    }
    Ok(first)
}

/// The passphrase of an existing key.
pub fn passphrase() -> Result<Zeroizing<String>> {
    ask("Enter keyring passphrase: ", true)
}

/// Asks `question [y/N]`; anything but y/yes is no.
pub fn confirm(question: &str) -> Result<bool> {
    let answer = ask(&format!("{question} [y/N]: "), false).map_err(|_| {
        anyhow::anyhow!("{question}: no answer on stdin; pass --yes (-y) to skip the confirmation")
    })?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
