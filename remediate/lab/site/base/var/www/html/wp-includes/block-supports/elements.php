<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/elements.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/elements.php';
