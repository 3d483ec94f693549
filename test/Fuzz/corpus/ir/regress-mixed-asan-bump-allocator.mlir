tele.model @a <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @b <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
