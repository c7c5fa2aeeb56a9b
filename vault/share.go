package vault

import (
	"context"
	"errors"
	"fmt"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// Labels of a share node's two sealed parts (SPEC.md section 17.2).
const (
	adShare      = "peer/v1 share"
	adShareOwner = "peer/v1 share owner"
	labelTag     = "peer/v1 share tag"
	labelShare   = "peer/v1 share key"
)

// FollowShare is a following link's share as its owner keeps it: the
// secret the link holds, the path it follows, and when it was made, will
// expire and was ended (unix nanoseconds; 0: not).
type FollowShare struct {
	Secret  [32]byte
	Path    string
	Made    int64
	Expires int64
	Ended   int64
	// Version, when defined, makes the share a version link to a folder:
	// the folder's copy made when it was shared (CopyFolder), opened by
	// VersionKey, and listed until the share ends (the root keeps it, so
	// the owner's devices keep and serve it). Path is where it was.
	Version    cid.Cid
	VersionKey [32]byte
}

// ShareTag is what a share node shows in clear so that a link finds its node:
// the first 16 bytes of HKDF(secret, "peer/v1 share tag").
func ShareTag(secret [32]byte) (t [16]byte) {
	copy(t[:], derive(secret[:], labelTag))
	return t
}

func shareKey(secret [32]byte) (k [32]byte) {
	copy(k[:], derive(secret[:], labelShare))
	return k
}

// SharedFile is what a share node gives a link's holder.
type SharedFile struct {
	Kind  Kind    // KindFile or KindDir
	CID   cid.Cid // the file version or the folder's copy; undefined when the share gives none
	Key   [32]byte
	Name  string
	Size  uint64
	Mtime int64
	Mode  uint32
	// Ended and Expires are the share's (0: not), so a reader can say
	// why it gives no version.
	Ended   int64
	Expires int64
}

type shareNode struct {
	Type  string `cbor:"type"`
	V     int    `cbor:"v"`
	Tag   []byte `cbor:"tag"`
	Links []Link `cbor:"links"`
	Owner []byte `cbor:"owner"`
	Body  []byte `cbor:"body"`
}

func (n shareNode) withoutBody() any      { n.Body = nil; return n }
func (n shareNode) sealed() (int, []byte) { return n.V, n.Body }

type shareOwner struct {
	Secret  []byte `cbor:"secret"`
	Path    string `cbor:"path"`
	Made    int64  `cbor:"made"`
	Expires int64  `cbor:"expires"`
	Ended   int64  `cbor:"ended"`
	Version []byte `cbor:"version,omitempty"`
	VKey    []byte `cbor:"vkey,omitempty"`
}

type shareBody struct {
	Kind    string `cbor:"kind,omitempty"`
	Key     []byte `cbor:"key,omitempty"`
	Name    string `cbor:"name"`
	Size    uint64 `cbor:"size"`
	Mtime   int64  `cbor:"mtime"`
	Mode    uint32 `cbor:"mode"`
	Expires int64  `cbor:"expires"`
	Ended   int64  `cbor:"ended"`
}

func ownerAD(tag []byte) []byte { return append([]byte(adShareOwner+"\x00"), tag...) }

// WriteShare stores the node of share s giving file (nil: none, for a
// share that ended, expired or whose path holds nothing now) and returns
// its CID: a file version, or a folder's copy (CopyFolder). Sealing is
// deterministic: every device of the account writes the same node for
// the same share and file.
func (v *Vault) WriteShare(ctx context.Context, s FollowShare, file *Entry) (cid.Cid, error) {
	tag := ShareTag(s.Secret)
	o := shareOwner{Secret: s.Secret[:], Path: s.Path, Made: s.Made, Expires: s.Expires, Ended: s.Ended}
	if s.Version.Defined() {
		o.Version, o.VKey = s.Version.Bytes(), s.VersionKey[:]
	}
	owner, err := marshal(o)
	if err != nil {
		return cid.Undef, err
	}
	sealedOwner, err := sealBody(&v.acct.cur().index, ownerAD(tag[:]), owner)
	if err != nil {
		return cid.Undef, err
	}
	body := shareBody{Expires: s.Expires, Ended: s.Ended}
	links := []Link{}
	if file != nil && s.Ended == 0 {
		body.Key, body.Name, body.Size, body.Mtime, body.Mode = file.Key[:], file.Name, file.Size, file.Mtime, file.Mode
		if file.Kind == KindDir {
			body.Kind, body.Size = string(KindDir), 0
		}
		links = append(links, Link{file.CID})
	}
	key := shareKey(s.Secret)
	blk, err := v.sealNode(&key, adShare, body, func(sealed []byte) bodiless {
		return shareNode{Type: "share", V: 1, Tag: tag[:], Links: links, Owner: sealedOwner, Body: sealed}
	})
	if err != nil {
		return cid.Undef, fmt.Errorf("failed to seal a share: %w", err)
	}
	if err := v.blocks.Put(context.WithoutCancel(ctx), []blocks.Block{blk}); err != nil {
		return cid.Undef, fmt.Errorf("failed to store a share: %w", err)
	}
	return blk.Cid(), nil
}

func readShareNode(ctx context.Context, bs Blocks, c cid.Cid) (*shareNode, error) {
	var n shareNode
	if err := decodeNode(ctx, bs, c, "share", "share", &n); err != nil {
		return nil, err
	}
	if n.V != 1 || len(n.Tag) != 16 || len(n.Links) > 1 {
		return nil, &DamagedError{CID: c, What: "share", Err: fmt.Errorf("version %d, tag of %d bytes, %d links", n.V, len(n.Tag), len(n.Links))}
	}
	if len(n.Links) == 1 && n.Links[0].Prefix().Codec != cid.DagCBOR {
		return nil, &DamagedError{CID: c, What: "share", Err: errors.New("the version it gives is not a dag-cbor link")}
	}
	return &n, nil
}

// ShareOwner opens the owner's part of a share node this account wrote.
func (v *Vault) ShareOwner(ctx context.Context, c cid.Cid) (FollowShare, error) {
	n, err := readShareNode(ctx, v.blocks, c)
	if err != nil {
		return FollowShare{}, err
	}
	plain, err := openBodyAny(v.acct.indexKeys(), ownerAD(n.Tag), n.Owner)
	if err != nil {
		return FollowShare{}, &DamagedError{CID: c, What: "share", Err: fmt.Errorf("owner part: %w", err)}
	}
	var o shareOwner
	if err := unmarshal(plain, &o); err != nil || len(o.Secret) != 32 {
		return FollowShare{}, &DamagedError{CID: c, What: "share", Err: fmt.Errorf("owner part: bad encoding or secret (%v)", err)}
	}
	s := FollowShare{Path: o.Path, Made: o.Made, Expires: o.Expires, Ended: o.Ended}
	copy(s.Secret[:], o.Secret)
	if o.Version != nil {
		vc, err := cid.Cast(o.Version)
		if err != nil || vc.Prefix().Codec != cid.DagCBOR || len(o.VKey) != 32 {
			return FollowShare{}, &DamagedError{CID: c, What: "share", Err: fmt.Errorf("owner part: bad version (%v) or key of %d bytes", err, len(o.VKey))}
		}
		s.Version = vc
		copy(s.VersionKey[:], o.VKey)
	}
	if t := ShareTag(s.Secret); string(t[:]) != string(n.Tag) {
		return FollowShare{}, &DamagedError{CID: c, What: "share", Err: errors.New("the tag is not the secret's")}
	}
	return s, nil
}

// ErrOtherShare says a share node is not the one a secret finds.
var ErrOtherShare = errors.New("the share node is not this link's")

// ReadShare opens the share node c with a link's secret: ErrOtherShare
// when its tag is another's. It needs no key of the account.
func ReadShare(ctx context.Context, bs Blocks, c cid.Cid, secret [32]byte) (SharedFile, error) {
	data, err := getBlock(ctx, bs, c, "share")
	if err != nil {
		return SharedFile{}, err
	}
	if kind, _ := BlockKind(c, data); kind == "envelope" || kind == "pub" || kind == "contacts" {
		return SharedFile{}, ErrOtherShare // the root lists these among its shares too
	}
	n, err := readShareNode(ctx, bs, c)
	if err != nil {
		return SharedFile{}, err
	}
	if t := ShareTag(secret); string(t[:]) != string(n.Tag) {
		return SharedFile{}, ErrOtherShare
	}
	key := shareKey(secret)
	var b shareBody
	if err := openNode(*n, adShare, &key, &b); err != nil {
		return SharedFile{}, &DamagedError{CID: c, What: "share", Err: err}
	}
	out := SharedFile{Kind: KindFile, Name: b.Name, Size: b.Size, Mtime: b.Mtime, Mode: b.Mode, Ended: b.Ended, Expires: b.Expires}
	switch b.Kind {
	case "":
	case string(KindDir):
		out.Kind = KindDir
	default:
		return SharedFile{}, &DamagedError{CID: c, What: "share", Err: fmt.Errorf("it gives a %q, neither a file nor a folder", b.Kind)}
	}
	if len(n.Links) == 1 {
		if len(b.Key) != 32 {
			return SharedFile{}, &DamagedError{CID: c, What: "share", Err: errors.New("the file key is not 32 bytes")}
		}
		out.CID = n.Links[0].Cid
		copy(out.Key[:], b.Key)
	}
	return out, nil
}
