<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-tax-query.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-tax-query.php';
