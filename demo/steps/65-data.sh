# Protecting data: envelope encryption of a file (AWS Encryption SDK format) and file signatures.
section "Protecting data: encrypt, decrypt, sign, verify"
kmsctl key create --alias alias/demo-backups --description "Backups" --json >/dev/null
printf 'db_password=%s\napi_token=%s\n' "not-a-real-secret" "also-not-real" > "$DEMO_WORK/secrets.env"

# Encrypt under an alias with an encryption context: KMS makes the data key, the file is encrypted here.
step data encrypt "$DEMO_WORK/secrets.env" --key alias/demo-backups --context app=billing --context env=prod -o "$DEMO_WORK/secrets.env.enc"
# The header, without decrypting and without calling KMS: which key, which context, how big.
step data inspect "$DEMO_WORK/secrets.env.enc"
# Decrypt: strict about the key and the context.
step data decrypt "$DEMO_WORK/secrets.env.enc" --expect-key alias/demo-backups --expect-context app=billing -o "$DEMO_WORK/secrets.env.out"
cmp "$DEMO_WORK/secrets.env" "$DEMO_WORK/secrets.env.out" && echo "(the decrypted file is identical to the original)"
# The wrong context is refused before anything is decrypted.
step_fails data decrypt "$DEMO_WORK/secrets.env.enc" --expect-key alias/demo-backups --expect-context env=staging -o "$DEMO_WORK/wrong.out"
# One byte of the ciphertext changed: decryption refuses it, and the output path is never written.
cp "$DEMO_WORK/secrets.env.enc" "$DEMO_WORK/tampered.enc"
size=$(wc -c < "$DEMO_WORK/tampered.enc")
printf '\x00' | dd of="$DEMO_WORK/tampered.enc" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
step_fails data decrypt "$DEMO_WORK/tampered.enc" --expect-key alias/demo-backups -o "$DEMO_WORK/tampered.out"
[ ! -e "$DEMO_WORK/tampered.out" ] && echo "(no $DEMO_WORK/tampered.out was written)"

# Sign a release artefact with the release-signing key (RSA): hashed here, only the digest goes to KMS;
# verify with KMS, then offline with the public key.
head -c 200000 /dev/urandom > "$DEMO_WORK/release-1.0.tar.gz"
step data sign "$DEMO_WORK/release-1.0.tar.gz" --key alias/demo-release-signing
step data verify "$DEMO_WORK/release-1.0.tar.gz"
step data verify "$DEMO_WORK/release-1.0.tar.gz" --offline
# A changed artefact fails verification (exit 1).
printf 'x' >> "$DEMO_WORK/release-1.0.tar.gz"
step_fails data verify "$DEMO_WORK/release-1.0.tar.gz" "$DEMO_WORK/release-1.0.tar.gz.sig.json"
