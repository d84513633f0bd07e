<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/duotone.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/duotone.php';
