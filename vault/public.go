package vault

import (
	"context"
	"errors"
	"fmt"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

const adPublicOwner = "peer/v1 public owner"

// Published is one name of the account's public index as its devices
// keep it (SPEC.md section 17.6): the plain UnixFS DAG it names (CID
// undefined once unpublished), its DAG's size for the index's link, the
// file's size, and when it was published or unpublished.
type Published struct {
	Name  string
	CID   cid.Cid
	Tsize uint64
	Size  uint64
	Time  int64
}

type pubNode struct {
	Type  string `cbor:"type"`
	V     int    `cbor:"v"`
	Links []Link `cbor:"links"`
	Owner []byte `cbor:"owner"`
}

type pubOwner struct {
	Name  string `cbor:"name"`
	Tsize uint64 `cbor:"tsize"`
	Size  uint64 `cbor:"size"`
	Time  int64  `cbor:"time"`
}

func pubAD(links []Link) []byte {
	ad := []byte(adPublicOwner + "\x00")
	for _, l := range links {
		ad = append(ad, l.Bytes()...)
	}
	return ad
}

// WritePublished stores the node that carries p to the account's other
// devices: a link to its DAG (none when unpublished) and its name and
// sizes sealed under the index key (an unpublished name stays private).
func (v *Vault) WritePublished(ctx context.Context, p Published) (cid.Cid, error) {
	links := []Link{}
	if p.CID.Defined() {
		links = append(links, Link{p.CID})
	}
	plain, err := marshal(pubOwner{Name: p.Name, Tsize: p.Tsize, Size: p.Size, Time: p.Time})
	if err != nil {
		return cid.Undef, err
	}
	owner, err := sealBody(&v.acct.cur().index, pubAD(links), plain)
	if err != nil {
		return cid.Undef, err
	}
	return v.storeNode(ctx, pubNode{Type: "pub", V: 1, Links: links, Owner: owner}, "a public index entry")
}

// storeNode encodes the clear node n, stores it and returns its CID;
// what names it for errors.
func (v *Vault) storeNode(ctx context.Context, n any, what string) (cid.Cid, error) {
	data, err := marshal(n)
	if err != nil {
		return cid.Undef, err
	}
	blk, err := newBlock(cborPrefix, data)
	if err != nil {
		return cid.Undef, err
	}
	if err := v.blocks.Put(context.WithoutCancel(ctx), []blocks.Block{blk}); err != nil {
		return cid.Undef, fmt.Errorf("failed to store %s: %w", what, err)
	}
	return blk.Cid(), nil
}

// ReadPublished opens a public index entry this account wrote.
func (v *Vault) ReadPublished(ctx context.Context, c cid.Cid) (Published, error) {
	var n pubNode
	if err := decodeNode(ctx, v.blocks, c, "public index entry", "pub", &n); err != nil {
		return Published{}, err
	}
	damaged := func(err error) error { return &DamagedError{CID: c, What: "public index entry", Err: err} }
	if n.V != 1 || len(n.Links) > 1 {
		return Published{}, damaged(fmt.Errorf("version %d, %d links", n.V, len(n.Links)))
	}
	plain, err := openBodyAny(v.acct.indexKeys(), pubAD(n.Links), n.Owner)
	if err != nil {
		return Published{}, damaged(err)
	}
	var o pubOwner
	if err := unmarshal(plain, &o); err != nil {
		return Published{}, damaged(err)
	}
	if o.Name == "" || len(o.Name) > 255 {
		return Published{}, damaged(errors.New("bad name"))
	}
	p := Published{Name: o.Name, Tsize: o.Tsize, Size: o.Size, Time: o.Time}
	if len(n.Links) == 1 {
		p.CID = n.Links[0].Cid
	}
	return p, nil
}
