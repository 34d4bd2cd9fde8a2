package gnmi

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// RawMessage is a gRPC message in protobuf wire form, passed through Codec
// without being decoded or encoded: the collector receives
// SubscribeResponses into one and decodes them itself, and the simulator
// sends pre-encoded responses with one.
type RawMessage struct {
	// B holds the message bytes. On receive the codec reuses B's capacity.
	B []byte
}

// Codec is a gRPC codec (named "proto", so peers see the usual content
// type) that passes *RawMessage through and marshals other proto messages
// as the default codec does. Use it with grpc.ForceCodecV2 on a call or
// grpc.ForceServerCodecV2 on a server.
type Codec struct{}

var _ encoding.CodecV2 = Codec{}

// Name returns "proto".
func (Codec) Name() string { return "proto" }

// Marshal encodes v.
func (Codec) Marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case *RawMessage:
		return mem.BufferSlice{mem.SliceBuffer(m.B)}, nil
	case proto.Message:
		b, err := proto.Marshal(m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	return nil, fmt.Errorf("gnmi codec: cannot marshal %T", v)
}

// Unmarshal decodes data into v; a *RawMessage gets a copy of the bytes.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	switch m := v.(type) {
	case *RawMessage:
		m.B = m.B[:0]
		for _, b := range data {
			m.B = append(m.B, b.ReadOnlyData()...)
		}
		return nil
	case proto.Message:
		buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
		defer buf.Free()
		return proto.Unmarshal(buf.ReadOnlyData(), m)
	}
	return fmt.Errorf("gnmi codec: cannot unmarshal into %T", v)
}
