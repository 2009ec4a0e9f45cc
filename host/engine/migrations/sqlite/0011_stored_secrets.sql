-- Target secrets written through the admin API, sealed by the server (ChaCha20-Poly1305): the
-- store never sees a value in clear. Nonce and ciphertext are hex text, so both databases accept
-- this file.
CREATE TABLE stored_secrets (
    tenant TEXT NOT NULL,
    target TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    nonce TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, target, secret_key)
);
