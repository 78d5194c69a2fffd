package trusttest

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
)

// crypto/x509 only writes v3 certificates, so a v1 certificate is a v3 one
// with the version and extensions removed from its TBS and signed again.

type certificateASN1 struct {
	TBS    asn1.RawValue
	SigAlg asn1.RawValue
	Sig    asn1.BitString
}

type tbsASN1 struct {
	Version    int `asn1:"optional,explicit,default:0,tag:0"`
	Serial     *big.Int
	SigAlg     asn1.RawValue
	Issuer     asn1.RawValue
	Validity   asn1.RawValue
	Subject    asn1.RawValue
	PublicKey  asn1.RawValue
	Extensions asn1.RawValue `asn1:"optional,explicit,tag:3"`
}

func (p *PKI) version1(tpl, issuer *x509.Certificate, pub crypto.PublicKey, issuerKey crypto.Signer) ([]byte, error) {
	der, err := x509.CreateCertificate(p.rand, tpl, issuer, pub, issuerKey)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	var outer certificateASN1
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return nil, err
	}
	var tbs tbsASN1
	if _, err := asn1.Unmarshal(outer.TBS.FullBytes, &tbs); err != nil {
		return nil, err
	}
	tbs.Version, tbs.Extensions = 0, asn1.RawValue{}
	raw, err := asn1.Marshal(tbs)
	if err != nil {
		return nil, err
	}
	digest, opts, err := prehash(c.SignatureAlgorithm, raw)
	if err != nil {
		return nil, err
	}
	sig, err := issuerKey.Sign(p.rand, digest, opts)
	if err != nil {
		return nil, err
	}
	outer.TBS = asn1.RawValue{FullBytes: raw}
	outer.Sig = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	return asn1.Marshal(outer)
}

func prehash(alg x509.SignatureAlgorithm, msg []byte) ([]byte, crypto.SignerOpts, error) {
	var h crypto.Hash
	switch alg {
	case x509.SHA256WithRSA, x509.ECDSAWithSHA256:
		h = crypto.SHA256
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512:
		h = crypto.SHA512
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		h = crypto.SHA1
	case x509.PureEd25519:
		return msg, crypto.Hash(0), nil
	default:
		return nil, nil, fmt.Errorf("trusttest: cannot re-sign with %s", alg)
	}
	d := h.New()
	d.Write(msg)
	return d.Sum(nil), h, nil
}
