// Package donor lends this node's disk to other accounts: it follows each
// served account's IPNS records (pubsub at once, the LAN DHT as the
// fallback), fetches and keeps the DAG of each new head, fetching only
// what it lacks, within a quota per donor and per account, provides what
// it holds, and republishes each account's newest record so that the
// name stays resolvable while its owner is away.
//
// A donor holds no key of the accounts it serves. It reads the links of
// their blocks in clear (vault.Links, vault.SnapshotLinks: SPEC.md §14)
// and never anything sealed, so what it stores is what any stranger
// holding the blocks could learn (SPEC.md, threat model).
//
// What a donor keeps of an account is a list of snapshots, newest first,
// each with its whole tree: the head always, then older snapshots by the
// history policy ([Keep]) and as far as the quota allows. The account
// root and the snapshot blocks are kept as direct pins (a snapshot's
// parents may be absent), the trees as GC roots.
package donor
