func.func @constant_loss(%l: tensor<f32>) -> tensor<f32> {
  return %l : tensor<f32>
}
