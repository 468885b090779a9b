//! A client connection's byte stream: on the executor's own ring (`ring.rs`) when it has
//! one, else through glommio's socket (kernels without `DEFER_TASKRUN`, or `client-ring no`).

use crate::local::Local;
use crate::ring::RingStream;
use futures_lite::{AsyncRead, AsyncWrite, AsyncWriteExt};
use glommio::net::TcpStream;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

pub enum Socket {
    Ring(RingStream),
    Glommio(TcpStream),
}

impl Socket {
    /// Serves an accepted connection on this executor's ring if it has one.
    pub fn new(local: &Local, stream: TcpStream) -> Socket {
        let Some(ring) = &local.ring else {
            return Socket::Glommio(stream);
        };
        // glommio's stream cannot give its descriptor away: take a duplicate and let it
        // close its own (it has no operation in flight on a socket it just accepted).
        // SAFETY: fcntl(F_DUPFD_CLOEXEC) takes no pointers and returns a new descriptor
        // or -1.
        let fd = unsafe { libc::fcntl(stream.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if fd < 0 {
            return Socket::Glommio(stream);
        }
        // SAFETY: `fd` is the new descriptor dup'ed above, owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        drop(stream);
        Socket::Ring(ring.adopt(fd))
    }

    /// Sends `buf` and leaves it empty (the ring may take its allocation, giving back an
    /// empty one): replies of one batch go out with one operation.
    pub async fn send(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Socket::Ring(s) => s.send_vec(buf).await,
            Socket::Glommio(s) => {
                s.write_all(buf).await?;
                buf.clear();
                Ok(())
            }
        }
    }

    /// Gives up output not sent yet (a killed client): the close that follows is immediate.
    pub fn discard(&self) {
        if let Socket::Ring(s) = self {
            s.discard();
        }
    }

    /// Hands what arrived to `take`: straight from the ring's receive, or through `scratch`
    /// on glommio's socket. Ready(0): the peer closed its side.
    pub fn poll_read_with(
        &mut self,
        cx: &mut Context<'_>,
        scratch: &mut [u8],
        take: impl FnOnce(&[u8]),
    ) -> Poll<io::Result<usize>> {
        match self {
            Socket::Ring(s) => s.poll_take(cx, take),
            Socket::Glommio(s) => {
                let n = std::task::ready!(Pin::new(s).poll_read(cx, scratch))?;
                take(&scratch[..n]);
                Poll::Ready(Ok(n))
            }
        }
    }

    pub fn as_raw_fd(&self) -> RawFd {
        match self {
            Socket::Ring(s) => s.as_raw_fd(),
            Socket::Glommio(s) => s.as_raw_fd(),
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Ring(s) => Pin::new(s).poll_read(cx, buf),
            Socket::Glommio(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Ring(s) => Pin::new(s).poll_write(cx, buf),
            Socket::Glommio(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Ring(s) => Pin::new(s).poll_flush(cx),
            Socket::Glommio(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Ring(s) => Pin::new(s).poll_close(cx),
            Socket::Glommio(s) => Pin::new(s).poll_close(cx),
        }
    }
}
