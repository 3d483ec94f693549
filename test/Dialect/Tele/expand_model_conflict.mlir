// RUN: tele-opt %s -split-input-file -verify-diagnostics --tele-expand-model

// tele-expand-model never overwrites a symbol: @<model>_loss must be free.

// A function already has the loss function's name.
// expected-error @+1 {{tele-expand-model: symbol @tiny_loss already exists}}
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
func.func private @tiny_loss()

// -----

// Another model's name collides with this model's loss function.
tele.model @a_loss <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
// expected-error @+1 {{tele-expand-model: symbol @a_loss already exists}}
tele.model @a <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
