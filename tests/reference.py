"""Independent NumPy versions of the CapsNet equations, for the tests to compare against."""

import numpy as np


def squash(s, axis=-1, epsilon=1e-7):
    n2 = np.sum(s**2, axis=axis, keepdims=True)
    return n2 / (1 + n2) * s / np.sqrt(n2 + epsilon)


def predict_vectors(u, W):
    batch, n_in, _ = u.shape
    _, n_out, d_out, _ = W.shape
    u_hat = np.zeros((batch, n_in, n_out, d_out))
    for i in range(n_in):
        for j in range(n_out):
            u_hat[:, i, j] = u[:, i] @ W[i, j].T  # W_ij u_i for every image
    return u_hat


def routing(u_hat, iterations):
    batch, n_in, n_out, _ = u_hat.shape
    b = np.zeros((batch, n_in, n_out))
    for r in range(iterations):
        e = np.exp(b - b.max(axis=2, keepdims=True))
        c = e / e.sum(axis=2, keepdims=True)
        s = np.einsum("bij,bijk->bjk", c, u_hat)
        v = squash(s)
        if r < iterations - 1:
            b = b + np.einsum("bijk,bjk->bij", u_hat, v)
    return v, c


def margin_loss(labels, lengths, m_plus=0.9, m_minus=0.1, lambda_=0.5):
    total = 0.0
    for label, row in zip(labels, lengths, strict=True):
        for k, length in enumerate(row):
            if k == label:
                total += max(0.0, m_plus - length) ** 2
            else:
                total += lambda_ * max(0.0, length - m_minus) ** 2
    return total / len(labels)


def reconstruction_loss(images, reconstructions):
    a = images.reshape(len(images), -1)
    b = reconstructions.reshape(len(reconstructions), -1)
    return np.mean(np.sum((a - b) ** 2, axis=1))
