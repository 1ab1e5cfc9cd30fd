// The checkout environment: three services, each in its own namespace, talking by name.
import { env, http } from 'warren';

export default env('checkout')
  .namespace('user').veth()
    .service('../playground/services/user.ts', 3001, { ready: http('/health') })
  .namespace('payment').veth()
    .service('../playground/services/payment.ts', 3003, { ready: http('/health') })
  .namespace('order').veth()
    .service('../playground/services/order.ts', 3002, { ready: http('/health'), dependsOn: ['user', 'payment'] })
  .main(import.meta);
