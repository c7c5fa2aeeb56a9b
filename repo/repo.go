// Package repo manages a node's folder ($PEER_PATH, default ~/.peer): its
// config file, libp2p identity, API token and block store.
//
//	config.toml    the configuration (commented)
//	identity.key   the libp2p private key (Ed25519, protobuf), mode 0600
//	account.key    the account's 32-byte root secret, mode 0600
//	epochs.key     the account's key epochs since its keys were rotated, mode 0600
//	device.cert    the account's signed certificate for this node's identity
//	api.token      the secret every API request must carry, mode 0600
//	api.addr       written by a running daemon: where its API listens
//	tls.crt        the certificate serving WebDAV to the LAN (tls.key: its key, 0600)
//	blocks/        the Badger database
package repo

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// File names inside a repo.
const (
	ConfigFile   = "config.toml"
	IdentityFile = "identity.key"
	AccountFile  = "account.key"
	EpochsFile   = "epochs.key"
	CertFile     = "device.cert"
	TokenFile    = "api.token"
	APIAddrFile  = "api.addr"
	BlocksDir    = "blocks"
)

// ErrNoRepo reports a folder without a repo.
var ErrNoRepo = errors.New("no peer repo here")

// ErrExists reports that Init found a repo already.
var ErrExists = errors.New("a peer repo already exists here")

// Repo is an opened repo folder.
type Repo struct {
	Dir      string
	Config   Config
	Identity crypto.PrivKey
	Token    string
	// AccountSecret is the account's root secret; nil in a repo made
	// before accounts existed (the daemon then makes one).
	AccountSecret []byte
}

// DefaultDir returns $PEER_PATH, or ~/.peer.
func DefaultDir() (string, error) {
	if d := os.Getenv("PEER_PATH"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("failed to find home folder (set PEER_PATH): %w", err)
	}
	return filepath.Join(home, ".peer"), nil
}

// Init creates a repo in dir with cfg, a new identity and token, and the
// account whose root secret is given.
func Init(dir string, cfg Config, accountSecret []byte) (*Repo, error) {
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate identity: %w", err)
	}
	return InitIdentity(dir, cfg, sk, accountSecret)
}

// CheckInit tells whether Init could make a repo in dir, without making
// anything: no repo, nor the account or blocks of one, is there.
func CheckInit(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil {
		return fmt.Errorf("failed to init %s: %w", dir, ErrExists)
	}
	// A repo that lost its config still holds its account: a new
	// account.key over it would make the vault unreadable.
	for _, f := range []string{AccountFile, BlocksDir} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return fmt.Errorf("failed to init %s: it holds %s but no %s (its config was lost, or an init was interrupted): %s, or move the folder away to start afresh", dir, f, ConfigFile, freshConfigHint)
		}
	}
	return nil
}

// InitIdentity is Init with a given identity (a device that joined an
// account by a link made its key before it had a repo).
func InitIdentity(dir string, cfg Config, sk crypto.PrivKey, accountSecret []byte) (*Repo, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := CheckInit(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create repo folder: %w", err)
	}
	kb, err := crypto.MarshalPrivateKey(sk)
	if err != nil {
		return nil, fmt.Errorf("failed to encode identity: %w", err)
	}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("failed to generate API token: %w", err)
	}
	token := hex.EncodeToString(tok)
	// The certificate that serves WebDAV to the LAN (lan.listen).
	if err := (&Repo{Dir: dir, Identity: sk}).makeTLS(); err != nil {
		return nil, err
	}
	// The config goes last: its presence marks a complete repo.
	for _, f := range []struct {
		name string
		data []byte
	}{
		{IdentityFile, kb},
		{TokenFile, []byte(token + "\n")},
		{AccountFile, accountSecret},
		{ConfigFile, cfg.encode()},
	} {
		if f.data == nil {
			continue
		}
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return nil, err
		}
	}
	return &Repo{Dir: dir, Config: cfg, Identity: sk, Token: token, AccountSecret: accountSecret}, nil
}

// Open reads the repo in dir.
func Open(dir string) (*Repo, error) {
	cfg, err := loadConfig(filepath.Join(dir, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("failed to open %s: %w (run 'peer init' first)", dir, ErrNoRepo)
	}
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, IdentityFile))
	if err != nil {
		return nil, fmt.Errorf("failed to read identity: %w", err)
	}
	sk, err := crypto.UnmarshalPrivateKey(kb)
	if err != nil {
		return nil, fmt.Errorf("failed to decode %s (the file is damaged; restore it from a backup): %w", IdentityFile, err)
	}
	token, err := ReadToken(dir)
	if err != nil {
		return nil, err
	}
	secret, err := os.ReadFile(filepath.Join(dir, AccountFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("failed to read %s: %w", AccountFile, err)
	}
	return &Repo{Dir: dir, Config: cfg, Identity: sk, Token: token, AccountSecret: secret}, nil
}

// WriteAccount stores the account's root secret (mode 0600).
func (r *Repo) WriteAccount(secret []byte) error {
	if err := writeFileAtomic(filepath.Join(r.Dir, AccountFile), secret, 0o600); err != nil {
		return err
	}
	r.AccountSecret = secret
	return nil
}

// ReadEpochs returns the stored key epochs (one "N hex" line each, see
// vault.ParseEpochs), or nil when the keys were never rotated.
func (r *Repo) ReadEpochs() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(r.Dir, EpochsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", EpochsFile, err)
	}
	return b, nil
}

// WriteEpochs stores the account's key epochs (mode 0600), whole.
func (r *Repo) WriteEpochs(b []byte) error {
	return writeFileAtomic(filepath.Join(r.Dir, EpochsFile), b, 0o600)
}

// ReadCert returns the stored device certificate, or nil if there is none.
func (r *Repo) ReadCert() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(r.Dir, CertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", CertFile, err)
	}
	return b, nil
}

// WriteCert stores the device certificate.
func (r *Repo) WriteCert(b []byte) error {
	return writeFileAtomic(filepath.Join(r.Dir, CertFile), b, 0o644)
}

// ReadToken reads the API token of the repo in dir.
func ReadToken(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("failed to read API token: %w (run 'peer init' first)", ErrNoRepo)
	}
	if err != nil {
		return "", fmt.Errorf("failed to read API token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// PeerID returns the node's peer ID.
func (r *Repo) PeerID() peer.ID {
	id, _ := peer.IDFromPrivateKey(r.Identity)
	return id
}

// BlocksDir returns the folder of the block store.
func (r *Repo) BlocksDir() string { return filepath.Join(r.Dir, BlocksDir) }

// WriteAPIAddr records where the running daemon's API listens.
func (r *Repo) WriteAPIAddr(addr string) error {
	return writeFileAtomic(filepath.Join(r.Dir, APIAddrFile), []byte(addr+"\n"), 0o600)
}

// RemoveAPIAddr removes the record of a running daemon.
func (r *Repo) RemoveAPIAddr() error {
	err := os.Remove(filepath.Join(r.Dir, APIAddrFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to remove %s: %w", APIAddrFile, err)
	}
	return nil
}

// ReadAPIAddr returns where the daemon of the repo in dir listens, or an
// error saying no daemon runs.
func ReadAPIAddr(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, APIAddrFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no daemon is running for %s (start one with 'peer daemon')", dir)
	}
	if err != nil {
		return "", fmt.Errorf("failed to read API address: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}
