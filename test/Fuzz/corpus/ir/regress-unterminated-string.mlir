func.func @mask_value_integer() -> tensor<i28> {
  %c = tele.mask_value "mask.hiddems_norm %x, %g {eps = 1.0e-5 : tensoyers = 1,