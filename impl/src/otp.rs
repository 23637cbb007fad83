//! OTP delivery: the out-of-band channel (SMS in the seed, step 1.2) that brings the server's
//! one-time password to the phone.
//!
//! The code is meant to be read by the user, so [`ConsoleOtp`] prints it: that is the SMS.
//! Nothing else in the implementation ever logs or prints an OTP.

use std::io::Write;
use std::sync::mpsc;

use ee2e_spec::Phone;

use crate::value::Bytes;

/// Delivers an OTP to the holder of a phone number.
pub trait OtpDelivery {
    /// Delivers `otp` to `phone`. Delivery is best effort, like SMS.
    fn deliver(&self, phone: &Phone, otp: &Bytes);
}

/// The text of an OTP as the user sees it (6 ASCII digits; anything else shown as hex).
pub fn otp_text(otp: &Bytes) -> String {
    match std::str::from_utf8(otp.as_slice()) {
        Ok(text) if text.bytes().all(|b| b.is_ascii_graphic()) => text.to_owned(),
        _ => otp.to_hex(),
    }
}

/// Prints `SMS to +15551234567: your EE2E code is 123456` on standard output.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsoleOtp;

impl OtpDelivery for ConsoleOtp {
    fn deliver(&self, phone: &Phone, otp: &Bytes) {
        let line = format!("SMS to {phone}: your EE2E code is {}\n", otp_text(otp));
        // Best effort, like SMS: a closed stdout loses the message, it does not panic.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

/// Appends `<phone> <code>` lines to a file (for tests and scripts that play the phone:
/// they read the code a server sent). The file is created with mode 0600; delivery is best
/// effort, like SMS: a write that fails is logged and the SMS is lost.
#[derive(Debug, Clone)]
pub struct FileOtp {
    path: std::path::PathBuf,
}

impl FileOtp {
    /// Delivery into the file at `path` (created at the first OTP if missing).
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        FileOtp { path: path.into() }
    }
}

impl OtpDelivery for FileOtp {
    fn deliver(&self, phone: &Phone, otp: &Bytes) {
        use std::os::unix::fs::OpenOptionsExt;
        let line = zeroize::Zeroizing::new(format!("{phone} {}\n", otp_text(otp)));
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(error) = written {
            tracing::warn!(path = %self.path.display(), %error, "OTP file not written; the SMS is lost");
        }
    }
}

/// One SMS carrying an OTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    /// The phone it was sent to.
    pub phone: Phone,
    /// The code (secret; its `Debug` shows only its length).
    pub otp: Bytes,
}

/// Sends each OTP into an [`mpsc`] channel; tests (and the runtime's simulated handsets)
/// read the codes from the receiver.
#[derive(Debug, Clone)]
pub struct ChannelOtp {
    sender: mpsc::Sender<Sms>,
}

impl ChannelOtp {
    /// A delivery and the receiver its SMS arrive on.
    pub fn new() -> (Self, mpsc::Receiver<Sms>) {
        let (sender, receiver) = mpsc::channel();
        (ChannelOtp { sender }, receiver)
    }

    /// A delivery into an existing channel.
    pub fn from_sender(sender: mpsc::Sender<Sms>) -> Self {
        ChannelOtp { sender }
    }
}

impl OtpDelivery for ChannelOtp {
    fn deliver(&self, phone: &Phone, otp: &Bytes) {
        // A dropped receiver is a phone that is switched off: the SMS is lost.
        let _ = self.sender.send(Sms { phone: phone.clone(), otp: otp.clone() });
    }
}

impl<T: OtpDelivery + ?Sized> OtpDelivery for Box<T> {
    fn deliver(&self, phone: &Phone, otp: &Bytes) {
        (**self).deliver(phone, otp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_otp_delivers_the_code_to_the_receiver() {
        let (delivery, inbox) = ChannelOtp::new();
        let phone = Phone::parse("+15550000001").unwrap();
        delivery.deliver(&phone, &Bytes::secret(b"123456".to_vec()));
        let sms = inbox.try_recv().unwrap();
        assert_eq!(sms.phone, phone);
        assert_eq!(otp_text(&sms.otp), "123456");
        assert!(!format!("{sms:?}").contains("123456"), "Debug must not show the code");
    }

    #[test]
    fn file_otp_appends_one_line_per_code() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("otp.txt");
        let delivery = FileOtp::new(&path);
        delivery.deliver(&Phone::parse("+15550000001").unwrap(), &Bytes::secret(b"123456".to_vec()));
        delivery.deliver(&Phone::parse("+15550000002").unwrap(), &Bytes::secret(b"654321".to_vec()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "+15550000001 123456\n+15550000002 654321\n");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        // A file that cannot be written loses the SMS without a panic.
        FileOtp::new(dir.path())
            .deliver(&Phone::parse("+15550000001").unwrap(), &Bytes::secret(b"1".to_vec()));
    }

    #[test]
    fn channel_otp_survives_a_dropped_receiver() {
        let (delivery, inbox) = ChannelOtp::new();
        drop(inbox);
        delivery.deliver(&Phone::parse("+15550000001").unwrap(), &Bytes::secret(b"1".to_vec()));
    }
}
