// Package replica lets an account's owner see who holds its data: any
// node that holds an account's DAG (another device of it, a donor that
// mirrors it) answers a request on /peer/replica/1 with a signed receipt
// of the account root and head it holds, and proves it holds blocks the
// asker picked at random, without sending them (SPEC.md section 14.2).
package replica
