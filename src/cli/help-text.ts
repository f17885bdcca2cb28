// Help paragraphs several commands share.

/** Shown by `grant retire` and `grant revoke`. */
export const RETIRE_VS_REVOKE = `Retire or revoke?
  retire: done by the grant's retiring principal, by the grantee when the grant allows RetireGrant, or by the account that created the grant (kms:RetireGrant); it is how a grantee says "I am done with this grant", and it works with the grant token alone.
  revoke: done by an administrator with kms:RevokeGrant on the key (key policy or IAM), whoever the grantee is; it is how you take access away.
Both delete the grant at once (eventually consistent); kmsctl records its definition in the journal first, so that kmsctl grant recreate can make an equivalent grant again (with a new grant ID).`
