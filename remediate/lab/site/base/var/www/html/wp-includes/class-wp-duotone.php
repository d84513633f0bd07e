<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-duotone.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-duotone.php';
