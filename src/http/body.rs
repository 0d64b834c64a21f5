//! An answer's body as the pieces it was written in
//! ([`crate::graphql::render::response_pieces`]): a megabyte of written
//! text goes to the socket as it stands, not first copied into one buffer.
//! Its length is known, so the answer still has a `Content-Length`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// A body of whole pieces, sent in order.
pub struct Pieces {
    pieces: VecDeque<Bytes>,
    remaining: u64,
}

impl Pieces {
    pub fn new(pieces: Vec<Bytes>) -> Self {
        let remaining = pieces.iter().map(|piece| piece.len() as u64).sum();
        Pieces { pieces: pieces.into_iter().filter(|piece| !piece.is_empty()).collect(), remaining }
    }
}

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let piece = self.pieces.pop_front();
        if let Some(piece) = &piece {
            self.remaining -= piece.len() as u64;
        }
        Poll::Ready(piece.map(|piece| Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces arrive whole and in order, and the length is told up front.
    #[tokio::test]
    async fn pieces_are_sent_in_order_with_their_length() {
        let body = Pieces::new(vec![Bytes::from_static(b"{\"data\":"), Bytes::new(), Bytes::from_static(b"[1,2]}")]);
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(14));
        let collected = axum::body::to_bytes(axum::body::Body::new(body), usize::MAX).await.expect("collected");
        assert_eq!(&collected[..], b"{\"data\":[1,2]}");
    }
}
