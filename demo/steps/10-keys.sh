# Key inventory and lifecycle: create a key with its alias, tags and rotation in one command, list and
# describe it, name it, prove it works end to end, and rotate it.
section "Key inventory"
step key create --description "Payments data" --alias alias/demo-payments --tag team=payments --tag env=demo --rotation-days 180
step key create --spec RSA_3072 --usage SIGN_VERIFY --alias alias/demo-release-signing --description "Release signing"
# Checked before anything is sent: an elliptic-curve key cannot encrypt.
step_fails key create --spec ECC_NIST_P256 --usage ENCRYPT_DECRYPT
# --dry-run shows exactly the requests, and sends nothing.
step key create --spec HMAC_256 --alias alias/demo-webhooks --dry-run
step key list
step key describe alias/demo-payments

section "Aliases"
step alias create alias/demo-billing alias/demo-payments
step alias list --customer
# Names under alias/aws/ belong to AWS managed keys.
step_fails alias create alias/aws/demo alias/demo-payments
step alias delete alias/demo-billing --confirm alias/demo-billing

section "Prove a key works"
# GenerateDataKey, then Decrypt of the returned ciphertext, compared in memory: nothing secret is printed.
step key verify alias/demo-payments --context app=billing
# A key agreement key: DeriveSharedSecret with a one-time local key pair, compared with a local ECDH.
setup key create --spec ECC_NIST_P256 --usage KEY_AGREEMENT --alias alias/demo-key-agreement --description "Key agreement demo"
step key verify alias/demo-key-agreement

section "Rotation"
# Asymmetric keys cannot rotate: refused with the reason.
step_fails key rotation enable alias/demo-release-signing
step key rotate alias/demo-payments
step key rotations alias/demo-payments
