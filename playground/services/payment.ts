import { serve } from './http-service.ts';

let charges = 0;

serve('payment', {
  'POST /charge': () => ({ charge: ++charges, status: 'approved' }),
});
